"""Send emails from several processes and threads at once, and stop without losing one.

A dispatcher thread per process claims tasks for its idle sending threads (an exclusive
transaction on SQLite, `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL), so a task goes
to exactly one thread of one process, however many workers share the queue; each thread
runs it with django-tasks-db's own `run_task`. Each thread has its own database
connection (Django's are per thread) and keeps its provider connection open between
messages (see `emails.message_deliver`). Threads share one core (rendering and MIME
building hold the GIL); processes, run by a `WorkerSupervisor`, use the others.
"""

import gc
import logging
import os
import queue
import random
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import NoReturn

from django.conf import settings
from django.db import close_old_connections, connections
from django.db.utils import OperationalError
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from auth_flow.mail.tasks import tasks_give_back, tasks_requeue_abandoned

logger = logging.getLogger(__name__)


class WorkerPool:
    """Claim tasks in batches for idle sending threads; on the first signal finish, on the
    second give back.

    One dispatcher thread per process claims as many ready tasks as there are idle
    threads, in one exclusive transaction (`SELECT … FOR UPDATE SKIP LOCKED` on
    PostgreSQL), each under the id of the thread that will send it. One claimer instead
    of one per thread means one short write lock per batch on SQLite instead of a queue
    of threads waiting for it, and one idle poll per interval instead of one per thread.
    """

    def __init__(self, *, size: int, worker_id: str, **worker_options):
        self.workers = [
            Worker(worker_id=f"{worker_id}-{n}", **worker_options) for n in range(size)
        ]
        # The library's parsed options (queues, interval, batch, max_tasks) for the
        # dispatcher; every thread's are the same.
        self.options = self.workers[0]
        self.idle: queue.SimpleQueue[int] = queue.SimpleQueue()
        self.inboxes: list[queue.SimpleQueue] = [queue.SimpleQueue() for _ in self.workers]
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
            threading.Thread(target=self.send_from, args=(index,), name=worker.worker_id)
            for index, worker in enumerate(self.workers)
        ]
        threads.append(threading.Thread(target=self.dispatch, name="dispatcher"))
        for thread in threads:
            thread.start()
        logger.info("Sending with %d thread(s).", len(self.workers))
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

    def dispatch(self) -> None:
        """Claim ready tasks for the idle threads until stopped (or, in batch mode, done)."""
        no_health_checks()
        options = self.options
        if options.startup_delay and options.interval:
            time.sleep(random.random())  # spread out the workers started together
        claimed = 0
        try:
            while not self.stopping:
                try:
                    idle = [self.idle.get(timeout=0.2)]
                except queue.Empty:
                    continue
                wanted = len(self.workers)
                if options.max_tasks is not None:
                    wanted = min(wanted, options.max_tasks - claimed)
                while len(idle) < wanted:
                    try:
                        idle.append(self.idle.get_nowait())
                    except queue.Empty:
                        break
                close_old_connections()
                tasks = self.tasks_claim(indexes=idle)
                handed = tasks or []
                for index, task_result in zip(idle, handed, strict=False):
                    self.inboxes[index].put(task_result)
                for index in idle[len(handed) :]:
                    self.idle.put(index)
                if tasks is None:
                    continue  # the database is locked for now: try again
                claimed += len(tasks)
                if options.max_tasks is not None and claimed >= options.max_tasks:
                    return
                if len(tasks) == len(idle):
                    continue  # more may be waiting
                # A running task may queue its own retry: batch mode ends only when the
                # queue is empty with every thread idle.
                if options.batch and self.idle.qsize() == len(self.workers):
                    return
                time.sleep(options.interval or 0.01)
        finally:
            connections.close_all()
            for inbox in self.inboxes:
                inbox.put(None)  # each thread finishes what it holds, then stops

    def tasks_claim(self, *, indexes: list[int]) -> list[DBTaskResult] | None:
        """Claim a ready task for each of these threads in one transaction, or None if locked."""
        options = self.options
        tasks = DBTaskResult.objects.ready().filter(backend_name=options.backend_name)
        if not options.process_all_queues:
            tasks = tasks.filter(queue_name__in=options.queue_names)
        if options.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=options.excluded_queue_names)
        try:
            with exclusive_transaction(tasks.db):
                claimed = list(tasks.select_for_update(skip_locked=True)[: len(indexes)])
                for index, task_result in zip(indexes, claimed, strict=False):
                    task_result.claim(self.workers[index].worker_id)
        except OperationalError as error:
            if not is_locked_database_exception(error):
                raise
            return None
        return claimed

    def send_from(self, index: int) -> None:
        """Send each task the dispatcher hands this thread, until it hands over None."""
        no_health_checks()
        worker, inbox = self.workers[index], self.inboxes[index]
        try:
            self.idle.put(index)
            while (task_result := inbox.get()) is not None:
                worker.run_task(task_result)
                close_old_connections()
                self.idle.put(index)
        finally:
            connections.close_all()


def no_health_checks() -> None:
    """Skip this thread's per-task connection health checks."""
    # close_old_connections() runs around every task; with health checks on, each costs
    # a round trip. A broken connection fails its query and is replaced on the next task.
    for alias in connections:
        connections[alias].settings_dict["CONN_HEALTH_CHECKS"] = False


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
