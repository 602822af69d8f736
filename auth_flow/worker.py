"""Send emails from several processes and threads at once, and stop without losing one.

Each thread runs django-tasks-db's own claim loop (an exclusive transaction on SQLite,
`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL), so a task goes to exactly one thread
of one process, however many workers share the queue. Each thread has its own database
connection (Django's are per thread) and keeps its provider connection open between
messages (see `emails.message_deliver`). Threads share one core (rendering and MIME
building hold the GIL); processes, run by a `WorkerSupervisor`, use the others.
"""

import gc
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import NoReturn

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
            self.abandon(why=f"Received {signal.strsignal(signum)} again")
        logger.warning(
            "Received %s: finishing the emails in flight, then stopping "
            "(again to stop at once; they will be re-queued).",
            signal.strsignal(signum),
        )
        self.stopping = True
        for worker in self.workers:
            worker.running = False

    def abandon(self, *, why: str) -> NoReturn:
        """Give the emails in flight back to the queue and exit at once."""
        # Their sends are abandoned, so the tasks go back now (another worker, or this
        # one restarted, sends them): sent twice at worst, never lost.
        given_back = tasks_give_back(worker_ids=self.worker_ids)
        logger.warning("%s: stopping now; %d email(s) in flight re-queued.", why, given_back)
        os._exit(1)

    def run(self, *, handle_signals: bool = True, parent_pid: int | None = None) -> None:
        """Send until stopped; a supervised pool also stops when its supervisor is gone."""
        if handle_signals:
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT):
                signal.signal(signum, self.stop)
        if parent_pid is not None and os.getppid() != parent_pid:
            logger.warning("The worker's supervisor is gone before it started: not sending.")
            return
        # Django, the models and the templates are loaded by now and live as long as the
        # process: keep them out of every garbage collection from here on.
        gc.freeze()
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
            if parent_pid is not None and os.getppid() != parent_pid:
                # The supervisor was killed (SIGKILL, OOM): nobody will forward the next
                # signal, so give back what this pool holds and stop, as on a second one.
                self.abandon(why="The worker's supervisor is gone")
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


class WorkerSupervisor:
    """Run several worker processes, pass them each signal, and restart one that dies.

    Each child is this same command with one process and its own worker id
    (`<id>-p<n>`), in a session of its own so that a terminal's Ctrl+C reaches it once,
    through here, and the first-signal-finishes, second-gives-back rule holds as it does
    for one process.
    """

    # A child that exits on its own this soon after its start is failing (bad settings,
    # no database), not unlucky: stop rather than restart it in a loop (its error is on
    # stderr). One killed by a signal is restarted.
    CRASH_WITHIN_SECONDS = 10

    def __init__(self, *, commands: Sequence[Sequence[str]]):
        self.commands = [list(command) for command in commands]
        self.children: list[subprocess.Popen] = []
        self.started_at: list[float] = []
        self.stopping = False

    def start(self, index: int) -> subprocess.Popen:
        env = {**os.environ, "SEND_WORKER_SUPERVISOR_PID": str(os.getpid())}
        # Our own manage.py with options we built, not outside input.
        child = subprocess.Popen(  # noqa: S603
            self.commands[index], cwd=settings.BASE_DIR, env=env, start_new_session=True
        )
        if index < len(self.started_at):
            self.started_at[index] = time.monotonic()
        else:
            self.started_at.append(time.monotonic())
        return child

    def forward(self, signum: int, frame) -> None:
        if not self.stopping:
            logger.warning(
                "Received %s: passing it to %d worker process(es).",
                signal.strsignal(signum),
                len(self.children),
            )
        self.stopping = True
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signum)

    def run(self) -> int:
        """Supervise until every child has stopped; return the worst exit code."""
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT):
            signal.signal(signum, self.forward)
        self.children = [self.start(index) for index in range(len(self.commands))]
        while True:
            time.sleep(0.2)
            codes = [child.poll() for child in self.children]
            if self.stopping and all(code is not None for code in codes):
                return max(abs(code) for code in codes)
            for index, code in enumerate(codes):
                if code is None or self.stopping:
                    continue
                ran_for = time.monotonic() - self.started_at[index]
                if code >= 0 and ran_for < self.CRASH_WITHIN_SECONDS:
                    logger.error("Worker process %d failed at start (%s); stopping.", index, code)
                    self.forward(signal.SIGTERM, None)
                    continue
                # Killed or crashed: a new one with the same id re-queues at start what
                # the dead one held, so its emails go out now, not once they are stale.
                logger.warning("Worker process %d exited (%s); restarting it.", index, code)
                self.children[index] = self.start(index)
