"""Show the email queue: what waits, runs and failed in the last hour."""

from django.core.management.base import BaseCommand

from auth_flow.mail.tasks import queue_status


class Command(BaseCommand):
    help = "Show the email queue: what waits and for how long, what runs, what failed."

    def handle(self, *args, **options):
        status = queue_status()
        self.stdout.write(
            f"waiting: {status.waiting} (oldest {status.oldest_waiting_seconds} s)\n"
            f"retries scheduled: {status.retries_scheduled}\n"
            f"running: {status.running}\n"
            f"failed in the last hour: {status.failed_last_hour}"
        )
