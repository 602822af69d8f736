from datetime import timedelta

from django.conf import settings
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from auth_flow.tasks import task_results_prune_schedule, tasks_requeue_abandoned


class Command(DbWorkerCommand):
    help = "Run the email worker, first re-queueing tasks a killed worker left running."

    def handle(self, *args, **options):
        # A worker killed mid-send leaves its task marked "running" forever; without
        # this the email would be lost. Sending twice beats not sending.
        tasks_requeue_abandoned(
            worker_id=options["worker_id"],
            stale_after=timedelta(seconds=settings.TASK_STALE_AFTER_SECONDS),
        )
        # Old task results (addresses, IPs) are deleted by a task that queues itself.
        task_results_prune_schedule(delay=timedelta(0))
        super().handle(*args, **options)
