"""Send emails from several threads at once, and stop without losing one.

Each thread runs django-tasks-db's own claim loop (an exclusive transaction on SQLite,
`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL), so a task goes to exactly one thread
of one process, however many workers share the queue. Each thread has its own database
connection (Django's are per thread) and keeps its provider connection open between
messages (see `emails.message_deliver`).
"""

import logging
import os
import signal
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import connections
from django_tasks_db.management.commands.db_worker import Worker

from auth_flow.tasks import tasks_give_back, tasks_requeue_abandoned

logger = logging.getLogger(__name__)


class WorkerPool:
    """Run one claim loop per thread; on the first signal finish, on the second give back."""

    def __init__(self, *, size: int, worker_id: str, **worker_options):
        self.workers = [
            Worker(worker_id=f"{worker_id}-{n}", **worker_options) for n in range(size)
        ]
        self.stopping = False
        self.stale_after = timedelta(seconds=settings.TASK_STALE_AFTER_SECONDS)

    @property
    def worker_ids(self) -> set[str]:
        return {worker.worker_id for worker in self.workers}

    def stop(self, signum: int, frame) -> None:
        if self.stopping:
            # Ctrl+C twice: sends in flight are abandoned, so their tasks go back to the
            # queue now (another worker, or this one restarted, sends them).
            given_back = tasks_give_back(worker_ids=self.worker_ids)
            logger.warning(
                "Received %s again: stopping now; %d email(s) in flight re-queued.",
                signal.strsignal(signum),
                given_back,
            )
            os._exit(1)
        logger.warning(
            "Received %s: finishing the emails in flight, then stopping "
            "(again to stop at once; they will be re-queued).",
            signal.strsignal(signum),
        )
        self.stopping = True
        for worker in self.workers:
            worker.running = False

    def run(self, *, handle_signals: bool = True) -> None:
        if handle_signals:
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT):
                signal.signal(signum, self.stop)
        threads = [
            threading.Thread(target=self.run_one, args=(worker,), name=worker.worker_id)
            for worker in self.workers
        ]
        for thread in threads:
            thread.start()
        logger.info("Sending with %d thread(s).", len(threads))
        next_check = time.monotonic() + self.stale_check_every()
        while any(thread.is_alive() for thread in threads):
            time.sleep(0.2)  # the main thread stays free to take signals
            if not self.stopping and time.monotonic() >= next_check:
                next_check = time.monotonic() + self.stale_check_every()
                self.requeue_stale()

    def stale_check_every(self) -> float:
        return max(1.0, min(60.0, self.stale_after.total_seconds() / 4))

    def requeue_stale(self) -> None:
        """Give back what a dead worker (another process, another machine) left running."""
        try:
            tasks_requeue_abandoned(worker_id=None, stale_after=self.stale_after)
        except Exception as error:  # a database hiccup must not stop the sending
            logger.warning("Could not check for abandoned tasks (%s).", type(error).__name__)
        finally:
            connections.close_all()

    @staticmethod
    def run_one(worker: Worker) -> None:
        # The claim loop calls close_old_connections() twice per task; with health
        # checks on, each costs a round trip. A broken connection fails its query and is
        # replaced on the next loop anyway.
        for alias in connections:
            connections[alias].settings_dict["CONN_HEALTH_CHECKS"] = False
        try:
            worker.run()
        finally:
            connections.close_all()
