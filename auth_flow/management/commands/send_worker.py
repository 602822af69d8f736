"""Run the email worker: processes of sending threads over the database queue."""

import os
import sys
from datetime import timedelta

from django.conf import settings
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from auth_flow.mail.tasks import task_results_prune_schedule, tasks_requeue_abandoned
from auth_flow.mail.worker import WorkerPool, WorkerSupervisor


class Command(DbWorkerCommand):
    help = (
        "Run the email worker: several sending threads, tasks a killed worker left "
        "running re-queued, old task results pruned."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        # One claimer per process polls (not one per thread): a short wait between
        # looks at an empty queue costs little and is how long a lone email waits.
        parser.set_defaults(interval=0.1)
        parser.add_argument(
            "--concurrency",
            type=int,
            default=settings.EMAIL_WORKER_CONCURRENCY,
            help="Emails each process sends at once, one thread each (default: "
            "EMAIL_WORKER_CONCURRENCY, %(default)s).",
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=settings.EMAIL_WORKER_PROCESSES,
            help="Worker processes, each with --concurrency threads (default: "
            "EMAIL_WORKER_PROCESSES, %(default)s).",
        )

    def handle(self, *args, concurrency: int, processes: int, **options):
        self.configure_logging(options["verbosity"])
        # A worker killed mid-send leaves its task marked "running"; without this the
        # email would be lost. Sending twice beats not sending.
        tasks_requeue_abandoned(
            worker_id=options["worker_id"],
            stale_after=timedelta(seconds=settings.TASK_STALE_AFTER_SECONDS),
        )
        # Old task results (addresses, IPs) are deleted by a task that queues itself.
        task_results_prune_schedule(delay=timedelta(0))
        if options["reload"] and not options["batch"]:
            # The autoreloader restarts one process; keep the library's own loop there.
            super().handle(*args, **options)
            return
        if processes > 1 and not options["batch"] and options["max_tasks"] is None:
            supervisor = WorkerSupervisor(
                commands=[
                    self.child_command(index=n, concurrency=concurrency, options=options)
                    for n in range(processes)
                ]
            )
            sys.exit(supervisor.run())
        queue_names = options["queue_name"].split(",")
        exclude = options["exclude_queues"]
        pool = WorkerPool(
            size=max(1, concurrency),
            worker_id=options["worker_id"],
            queue_names=queue_names,
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            excluded_queue_names=exclude.split(",") if exclude else [],
        )
        supervisor_pid = os.environ.get("SEND_WORKER_SUPERVISOR_PID")
        pool.run(
            handle_signals=not options["batch"],
            parent_pid=int(supervisor_pid) if supervisor_pid else None,
        )

    @staticmethod
    def child_command(*, index: int, concurrency: int, options: dict) -> list[str]:
        """Return the command line of one supervised worker process."""
        command = [
            sys.executable,
            str(settings.BASE_DIR / "manage.py"),
            "send_worker",
            "--processes=1",
            f"--concurrency={concurrency}",
            f"--worker-id={options['worker_id']}-p{index}",
            "--no-reload",
            f"--interval={options['interval']}",
            f"--queue-name={options['queue_name']}",
            f"--backend={options['backend_name']}",
            f"--verbosity={options['verbosity']}",
        ]
        if options["exclude_queues"]:
            command.append(f"--exclude-queues={options['exclude_queues']}")
        if not options["startup_delay"]:
            command.append("--no-startup-delay")
        return command
