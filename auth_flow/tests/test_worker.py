"""The sending worker: concurrent, each task claimed once, nothing lost on shutdown."""

import signal
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone

from auth_flow.models import User
from auth_flow.services import password_reset_request
from auth_flow.smtp_sink import SmtpSink
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
def test_a_worker_stopped_mid_send_loses_no_email(client, queue, user, signals):  # noqa: F811
    slow_provider = SmtpSink(hang=True).start()
    worker = worker_process(smtp_port=slow_provider.port)
    try:
        client.post(reverse("password_reset"), {"email": user.email})
        wait_for(lambda: queue.running().exists())
        for signum in signals:
            worker.send_signal(signum)
            if signum != signal.SIGKILL:
                # Two of one signal before the first is handled are handled once.
                wait_for(lambda: worker_logged(worker, "finishing the emails in flight"))
        worker.wait(20)
    finally:
        slow_provider.stop()
    task = queue.get()
    assert task.status != TaskResultStatus.FAILED
    assert task.exception_class_path == ""

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
    queue.filter(pk=fresh.pk).update(
        status=TaskResultStatus.RUNNING, started_at=timezone.now(), worker_ids=["elsewhere-1"]
    )
    provider = SmtpSink().start()
    worker = worker_process(smtp_port=provider.port, TASK_STALE_AFTER_SECONDS="3")
    try:
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
