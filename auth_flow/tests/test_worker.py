"""The sending worker: concurrent, each task claimed once, nothing lost on shutdown."""

import os
import signal
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone

from auth_flow.accounts.services import password_reset_request
from auth_flow.devtools.smtp_sink import SmtpSink
from auth_flow.models import User
from auth_flow.tests.test_tasks import (  # noqa: F401
    queue,
    wait_for,
    worker_logged,
    worker_process,
)

META = {"requested_at": "2026-11-24T18:00:00+00:00", "ip": "203.0.113.7", "user_agent": ""}


def accounts(count: int) -> list[str]:
    password = make_password("x")  # once: 200 hashes would be the slow part
    users = [
        User(username=f"u{n}", email=f"u{n}@example.com", email_canonical=f"u{n}@example.com")
        for n in range(count)
    ]
    for user in users:
        user.password = password
    User.objects.bulk_create(users)
    return [user.email for user in users]


def stopped(*workers) -> None:
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
        worker.wait(20)


def test_two_worker_processes_send_each_of_200_emails_exactly_once(queue):  # noqa: F811
    addresses = accounts(200)
    for address in addresses:
        password_reset_request(email=address, meta=META)
    sink = SmtpSink().start()
    workers = [
        worker_process(smtp_port=sink.port, worker_id=f"w{n}", concurrency=4) for n in range(2)
    ]
    try:
        wait_for(lambda: len(sink.messages) >= 200, timeout=120)
        wait_for(lambda: not queue.exclude(status=TaskResultStatus.SUCCESSFUL).exists())
    finally:
        stopped(*workers)
        sink.stop()

    sent = Counter(message["To"] for message in sink.messages)
    assert sent == Counter(addresses)  # every one, none twice
    workers_used = {task.worker_ids[-1].rsplit("-", 1)[0] for task in queue.all()}
    assert workers_used == {"w0", "w1"}


def test_a_thread_keeps_its_smtp_connection_between_messages(queue):  # noqa: F811
    addresses = accounts(5)
    for address in addresses:
        password_reset_request(email=address, meta=META)
    sink = SmtpSink().start()
    worker = worker_process(smtp_port=sink.port, concurrency=1)
    try:
        wait_for(lambda: len(sink.messages) == 5)
    finally:
        stopped(worker)
        sink.stop()

    assert sink.connections == 1


def test_a_burst_is_sent_by_every_thread_at_once(queue):  # noqa: F811
    # A provider that takes a second per message: one at a time, 8 would take 8 seconds.
    addresses = accounts(8)
    sink = SmtpSink(delay=1).start()
    worker = worker_process(smtp_port=sink.port, concurrency=4)
    try:
        wait_for(lambda: worker_logged(worker, "Sending with 4 thread"))
        for address in addresses:
            password_reset_request(email=address, meta=META)
        wait_for(lambda: len(sink.messages) == 8)
    finally:
        stopped(worker)
        sink.stop()

    assert Counter(message["To"] for message in sink.messages) == Counter(addresses)
    threads = Counter(task.worker_ids[-1] for task in queue.successful())
    assert len(threads) == 4  # the dispatcher handed work to every idle thread
    assert sink.connections == 4  # each over its own connection, kept open


def test_a_supervised_worker_sends_from_each_of_its_processes(queue):  # noqa: F811
    addresses = accounts(60)
    for address in addresses:
        password_reset_request(email=address, meta=META)
    sink = SmtpSink(delay=0.05).start()
    worker = worker_process(smtp_port=sink.port, worker_id="sup", concurrency=3, processes=2)
    try:
        wait_for(lambda: len(sink.messages) >= 60, timeout=60)
    finally:
        stopped(worker)
        sink.stop()

    assert Counter(message["To"] for message in sink.messages) == Counter(addresses)
    processes_used = {task.worker_ids[-1].rsplit("-", 1)[0] for task in queue.all()}
    assert processes_used == {"sup-p0", "sup-p1"}


def test_the_per_address_cap_holds_across_worker_processes(queue, user):  # noqa: F811
    # Each process has a cache of its own (no Redis here): the count must not be.
    sink = SmtpSink(delay=1).start()
    workers = [
        worker_process(
            smtp_port=sink.port,
            worker_id=f"cap{n}",
            concurrency=1,
            RATE_LIMIT_RESET_EMAILS="2/900",
        )
        for n in range(2)
    ]
    try:
        wait_for(lambda: all(worker_logged(w, "Sending with 1 thread") for w in workers))
        # One thread each, busy for a second per email: each process takes one early.
        for _ in range(4):
            password_reset_request(email=user.email, meta=META)
        wait_for(lambda: not queue.exclude(status=TaskResultStatus.SUCCESSFUL).exists())
    finally:
        stopped(*workers)
        sink.stop()

    assert [message["To"] for message in sink.messages] == [user.email] * 2
    assert {task.worker_ids[-1].rsplit("-", 1)[0] for task in queue.all()} == {"cap0", "cap1"}


def children_of(pid: int) -> list[int]:
    """Return the pids of a process's children (Linux)."""
    tasks = Path(f"/proc/{pid}/task")
    found = []
    for task in tasks.iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
def test_a_killed_worker_process_is_restarted_and_sends_what_it_held(client, queue, user):  # noqa: F811
    provider = SmtpSink(delay=3).start()
    worker = worker_process(smtp_port=provider.port, worker_id="sup", processes=2)
    try:
        client.post(reverse("password_reset"), {"email": user.email})
        wait_for(lambda: queue.running().exists())
        holder = queue.running().get().worker_ids[-1]  # "sup-p<n>-<thread>"
        process_id = holder.rsplit("-", 1)[0]
        (killed,) = [
            pid
            for pid in children_of(worker.pid)
            if f"--worker-id={process_id}\0" in Path(f"/proc/{pid}/cmdline").read_text()
        ]
        os.kill(killed, signal.SIGKILL)
        wait_for(lambda: worker_logged(worker, "restarting it"))
        # The new process has the dead one's id, so it re-queues that email at start,
        # not TASK_STALE_AFTER_SECONDS later, and sends it.
        wait_for(lambda: queue.successful().exists(), timeout=30)
    finally:
        stopped(worker)
        provider.stop()

    assert user.email in [message["To"] for message in provider.messages]
    # Put back by the restarted process at its start (with anything else it held, such as
    # the pruning task; any process may then send it), not
    # after TASK_STALE_AFTER_SECONDS (300 s here, past this test's wait).
    assert worker_logged(worker, "task(s) left running by a stopped worker.")


@pytest.mark.parametrize("processes", [1, 2], ids=["one-process", "supervised"])
@pytest.mark.parametrize(
    "signals",
    [
        [signal.SIGINT, signal.SIGINT],
        # Ctrl+C in `make run`: SIGINT to the worker, then the trap's kill (SIGTERM).
        [signal.SIGINT, signal.SIGTERM],
        [signal.SIGKILL],
    ],
    ids=["ctrl-c-twice", "make-run-ctrl-c", "sigkill"],
)
def test_a_worker_stopped_mid_send_loses_no_email(client, queue, user, signals, processes):  # noqa: F811
    slow_provider = SmtpSink(hang=True).start()
    worker = worker_process(smtp_port=slow_provider.port, processes=processes)
    try:
        client.post(reverse("password_reset"), {"email": user.email})
        wait_for(lambda: queue.running().exists())
        for signum in signals:
            worker.send_signal(signum)
            if signum != signal.SIGKILL:
                # Two of one signal before the first is handled are handled once.
                wait_for(lambda: worker_logged(worker, "finishing the emails in flight"))
        worker.wait(20)
        if processes > 1 and signal.SIGKILL in signals:
            # A supervisor killed at once leaves its processes: they give back and stop.
            wait_for(lambda: not queue.running().exists())
    finally:
        slow_provider.stop()
    # Given back, never failed. (Supervised, a sibling process may have claimed it in the
    # moment between the two signals and queued a retry when the provider went away.)
    assert queue.exists()
    assert not queue.failed().exists()
    assert all(task.exception_class_path == "" for task in queue)

    provider = SmtpSink().start()
    restarted = worker_process(smtp_port=provider.port)
    try:
        wait_for(lambda: provider.messages)
    finally:
        stopped(restarted)
        provider.stop()

    (message,) = provider.messages
    assert message["To"] == user.email


def test_one_signal_lets_the_email_in_flight_finish(client, queue, user):  # noqa: F811
    provider = SmtpSink(delay=1.5).start()
    worker = worker_process(smtp_port=provider.port)
    try:
        client.post(reverse("password_reset"), {"email": user.email})
        wait_for(lambda: queue.running().exists())
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(20) == 0
    finally:
        provider.stop()

    assert [m["To"] for m in provider.messages] == [user.email]
    assert queue.get().status == TaskResultStatus.SUCCESSFUL


def test_running_workers_requeue_what_a_dead_one_left(client, queue, user):  # noqa: F811
    other = User.objects.create_user("bea", "bea@example.com", "x")
    client.post(reverse("password_reset"), {"email": user.email})
    client.post(reverse("password_reset"), {"email": other.email})
    # Workers on another machine claimed both and died: one an hour ago, one just now.
    old, fresh = queue.order_by("enqueued_at")
    queue.filter(pk=old.pk).update(
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now() - timedelta(hours=1),
        worker_ids=["elsewhere-0"],
    )
    # "Just now" is once this worker runs: a start slower than the stale time (a busy
    # machine) must not find both stale at once.
    later = timezone.now() + timedelta(hours=1)
    queue.filter(pk=fresh.pk).update(
        status=TaskResultStatus.RUNNING, started_at=later, worker_ids=["elsewhere-1"]
    )
    provider = SmtpSink().start()
    worker = worker_process(smtp_port=provider.port, TASK_STALE_AFTER_SECONDS="3")
    try:
        wait_for(lambda: worker_logged(worker, "Sending with"), timeout=30)
        queue.filter(pk=fresh.pk).update(started_at=timezone.now())
        wait_for(lambda: len(provider.messages) == 2, timeout=30)
    finally:
        stopped(worker)
        provider.stop()

    # The stale one at start; the fresh one once it went stale, while the worker ran:
    # two separate re-queues, not one at start.
    assert [m["To"] for m in provider.messages] == [user.email, other.email]
    with open(worker.log_path, encoding="utf-8") as log:
        requeues = log.read().count("Re-queued 1 task(s) left running by a stopped worker.")
    assert requeues == 2
