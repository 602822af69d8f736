from datetime import timedelta

from django.conf import settings
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from auth_flow.tasks import task_results_prune_schedule, tasks_requeue_abandoned
from auth_flow.worker import WorkerPool


class Command(DbWorkerCommand):
    help = (
        "Run the email worker: several sending threads, tasks a killed worker left "
        "running re-queued, old task results pruned."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--concurrency",
            type=int,
            default=settings.EMAIL_WORKER_CONCURRENCY,
            help="Emails sent at once, one thread each (default: EMAIL_WORKER_CONCURRENCY, "
            "%(default)s).",
        )

    def handle(self, *args, concurrency: int, **options):
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
        pool.run(handle_signals=not options["batch"])
