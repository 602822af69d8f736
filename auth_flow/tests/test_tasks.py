"""The email queue: retries, give-backs, pruning and health."""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from unittest import mock
from urllib.parse import quote

import pytest
from anymail.exceptions import AnymailRecipientsRefused, AnymailRequestsAPIError
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.tasks import TaskResultStatus
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from auth_flow.devtools.smtp_sink import SmtpSink
from auth_flow.mail.tasks import error_is_transient, task_results_prune
from auth_flow.tests.conftest import comparable
from auth_flow.tests.fakes import ScriptedBackend, permanent_error, transient_error
from site_config.settings import mailer_config

WORKER_ID = "test-worker"


@pytest.fixture
def queue(settings, transactional_db):
    """Use the durable database queue, with retries due at once."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.EMAIL_RETRY_BASE_SECONDS = 0
    settings.MAILERS = {"default": {"BACKEND": "auth_flow.tests.fakes.ScriptedBackend"}}
    ScriptedBackend.reset()
    # The emails' tasks; workers also keep a pruning task queued (tested on its own).
    return DBTaskResult.objects.exclude(task_path=task_results_prune.module_path)


def run_worker() -> None:
    """Run every ready task, as `manage.py send_worker --batch` does, then return."""
    call_command(
        "send_worker",
        batch=True,
        startup_delay=False,
        reload=False,
        worker_id=WORKER_ID,
        interval=0,
        verbosity=0,
        concurrency=1,  # in order, so scripted failures meet the attempts they target
    )


def request_reset(client, email: str):
    return client.post(reverse("password_reset"), {"email": email})


def test_the_request_only_queues_the_address_and_metadata(client, queue, user, mailoutbox):
    request_reset(client, user.email)

    task = queue.get()
    assert task.status == TaskResultStatus.READY
    assert set(task.args_kwargs["kwargs"]) == {"email", "meta"}
    assert task.args_kwargs["kwargs"]["email"] == user.email
    assert set(task.args_kwargs["kwargs"]["meta"]) == {
        "requested_at",
        "ip",
        "user_agent",
        "language",
        "time_zone",
    }
    assert mailoutbox == []

    run_worker()

    assert len(mailoutbox) == 1
    token_link = next(line for line in mailoutbox[0].body.splitlines() if "/reset/" in line)
    token = token_link.rstrip("/").rsplit("/", 1)[1]
    # The token exists only in the email: not in the queue, its result or any row.
    for row in queue.values_list("args_kwargs", "return_value", "traceback"):
        assert token not in str(row)


def test_request_metadata_is_cleaned_before_it_is_queued(client, queue, user, settings):
    settings.TRUSTED_PROXY_COUNT = 1

    response = client.post(
        reverse("password_reset"),
        {"email": user.email},
        headers={"User-Agent": "Firefox/1\x00\x1b[2J", "X-Forwarded-For": "not-an-ip <b>"},
    )

    assert response.status_code == 302
    meta = queue.get().args_kwargs["kwargs"]["meta"]
    assert meta["user_agent"] == "Firefox/1[2J"
    assert meta["ip"] == ""


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_known_and_unknown_addresses_cost_the_request_the_same(client, queue, user, htmx):
    headers = {"HX-Request": "true", "HX-Target": "main"} if htmx else {}
    pages = {}
    for name, email in (("known", user.email), ("unknown", "nobody@example.com")):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(reverse("password_reset"), {"email": email}, headers=headers)
        pages[name] = (
            response,
            queries,
            client.get(reverse("password_reset_done"), headers=headers),
        )

    (known, known_queries, known_done), (unknown, unknown_queries, unknown_done) = pages.values()
    assert len(known_queries) == len(unknown_queries)
    assert not any("auth_flow_user" in q["sql"] for q in [*known_queries, *unknown_queries])
    assert known.status_code == unknown.status_code
    assert dict(known.items()).keys() == dict(unknown.items()).keys()
    assert known.get("Location") == unknown.get("Location")
    assert known.get("HX-Location") == unknown.get("HX-Location")
    assert comparable(known.content) == comparable(unknown.content)
    # The page a person then sees is the same, word for word.
    assert known_done.status_code == unknown_done.status_code == 200
    assert b"Check your email" in known_done.content
    assert comparable(known_done.content) == comparable(unknown_done.content)
    # Both went to the real queue; neither was sent in the request.
    assert [t.args_kwargs["kwargs"]["email"] for t in queue.order_by("enqueued_at")] == [
        user.email,
        "nobody@example.com",
    ]


def test_transient_failures_are_retried_until_the_email_goes_out(client, queue, user, mailoutbox):
    ScriptedBackend.reset(transient_error(), transient_error())
    request_reset(client, user.email)

    run_worker()

    assert ScriptedBackend.attempts == 3
    assert len(mailoutbox) == 1
    results = list(queue.order_by("enqueued_at").values_list("status", "return_value"))
    assert [status for status, _ in results] == [TaskResultStatus.SUCCESSFUL] * 3
    assert results[-1][1] == "sent on attempt 3"


def test_retries_back_off_exponentially(client, queue, settings, user):
    settings.EMAIL_RETRY_BASE_SECONDS = 30
    ScriptedBackend.reset(transient_error(), transient_error())
    request_reset(client, user.email)

    run_worker()  # the first attempt fails; the retry is not due yet
    first_retry = queue.get(status=TaskResultStatus.READY)
    queue.filter(pk=first_retry.pk).update(run_after=first_retry.enqueued_at)
    run_worker()  # the second attempt fails too

    second_retry = queue.get(status=TaskResultStatus.READY)
    assert first_retry.args_kwargs["kwargs"]["attempt"] == 2
    assert second_retry.args_kwargs["kwargs"]["attempt"] == 3
    first_delay = first_retry.run_after - first_retry.enqueued_at
    second_delay = second_retry.run_after - second_retry.enqueued_at
    assert timedelta(seconds=29) < first_delay <= timedelta(seconds=31)
    assert timedelta(seconds=59) < second_delay <= timedelta(seconds=61)


def test_a_permanent_failure_is_tried_once_and_recorded(client, queue, user, mailoutbox):
    ScriptedBackend.reset(permanent_error(user.email))
    request_reset(client, user.email)

    run_worker()

    assert ScriptedBackend.attempts == 1
    assert mailoutbox == []
    failed = queue.get()
    assert failed.status == TaskResultStatus.FAILED
    assert failed.exception_class_path == "auth_flow.mail.tasks.EmailDeliveryFailed"
    assert "SMTPRecipientsRefused" in failed.traceback
    # Provider text can quote the message; only the error's class is kept.
    assert "No such mailbox" not in failed.traceback


def test_giving_up_after_the_configured_attempts(client, queue, settings, user, mailoutbox):
    settings.EMAIL_SEND_ATTEMPTS = 3
    ScriptedBackend.reset(*(transient_error() for _ in range(5)))
    request_reset(client, user.email)

    run_worker()

    assert ScriptedBackend.attempts == 3
    assert mailoutbox == []
    assert queue.failed().count() == 1
    assert "gave up after 3 attempts" in queue.failed().get().traceback


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (transient_error(), True),
        (TimeoutError(), True),
        (ConnectionRefusedError(), True),
        (permanent_error("a@example.com"), False),
        (AnymailRequestsAPIError(status_code=503), True),
        (AnymailRequestsAPIError(status_code=429), True),
        (AnymailRequestsAPIError(status_code=None), True),
        (AnymailRequestsAPIError(status_code=400), False),
        (AnymailRecipientsRefused(), False),
        (ValueError("a bug"), False),
    ],
)
def test_which_errors_are_retried(error, transient):
    assert error_is_transient(error=error) is transient


def worker_process(
    *,
    smtp_port: int,
    worker_id: str = WORKER_ID,
    concurrency: int = 4,
    processes: int = 1,
    **env_extra: str,
) -> subprocess.Popen:
    """Start `manage.py send_worker` against the test database, sending by SMTP."""
    db = connection.settings_dict  # the test database, which the worker must share
    if db["ENGINE"] == "django.db.backends.sqlite3":
        database_url = f"sqlite:///{db['NAME']}"
    else:
        password = quote(db["PASSWORD"] or "")
        database_url = (
            f"postgres://{quote(db['USER'])}:{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        )
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "test-only",
        "DATABASE_URL": database_url,
        "EMAIL_PROVIDER": "smtp",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_USE_TLS": "0",
        "SITE_URL": "https://accounts.example.com",
        **env_extra,
    }
    log = tempfile.NamedTemporaryFile(prefix="worker-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "send_worker",
            "--worker-id",
            worker_id,
            "--concurrency",
            str(concurrency),
            "--processes",
            str(processes),
            "--no-reload",
            "--no-startup-delay",
            "--interval",
            "0.1",
        ],
        cwd=django_settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        # A file, not a pipe: a busy worker's log would fill a pipe nobody reads.
        stderr=log,
    )
    process.log_path = log.name
    return process


def worker_logged(worker: subprocess.Popen, text: str) -> bool:
    """Say whether the worker has written this to its log yet."""
    with open(worker.log_path, encoding="utf-8", errors="replace") as log:
        return text in log.read()


def wait_for(condition, *, timeout: float = 20) -> None:
    """Poll a condition set by another process (there is no event to wait on)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def test_the_real_worker_sends_the_reset_email(client, queue, user):
    sink = SmtpSink().start()
    worker = worker_process(smtp_port=sink.port)
    try:
        request_reset(client, user.email)
        wait_for(lambda: sink.messages)
    finally:
        worker.terminate()
        worker.wait(10)
        sink.stop()

    message = sink.messages[0]
    assert message["To"] == user.email
    assert message["Subject"] == "Reset your Passage password"
    text = message.get_body(("plain",)).get_content()
    assert "https://accounts.example.com/accounts/reset/" in text
    assert queue.get().status == TaskResultStatus.SUCCESSFUL


def test_a_worker_killed_mid_send_loses_nothing(client, queue, user):
    silent_provider = SmtpSink(hang=True).start()
    worker = worker_process(smtp_port=silent_provider.port)
    try:
        request_reset(client, user.email)
        wait_for(lambda: queue.running().exists())
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        silent_provider.stop()
    assert queue.get().status == TaskResultStatus.RUNNING
    assert silent_provider.messages == []

    provider = SmtpSink().start()
    restarted = worker_process(smtp_port=provider.port)  # same worker id, a new process
    try:
        wait_for(lambda: provider.messages)
        wait_for(lambda: queue.get().status == TaskResultStatus.SUCCESSFUL)
    finally:
        restarted.terminate()
        restarted.wait(10)
        provider.stop()

    (message,) = provider.messages
    assert message["To"] == user.email
    assert "/accounts/reset/" in message.get_body(("plain",)).get_content()


def test_only_stale_or_own_running_tasks_are_requeued(client, queue, user, mailoutbox):
    request_reset(client, user.email)
    request_reset(client, "second@example.com")
    old, recent = queue.order_by("enqueued_at")
    now = old.enqueued_at
    queue.filter(pk=old.pk).update(
        status=TaskResultStatus.RUNNING, started_at=now - timedelta(hours=1), worker_ids=["gone"]
    )
    queue.filter(pk=recent.pk).update(
        status=TaskResultStatus.RUNNING, started_at=now, worker_ids=["alive-elsewhere"]
    )

    run_worker()

    assert queue.get(pk=old.pk).status == TaskResultStatus.SUCCESSFUL
    assert queue.get(pk=recent.pk).status == TaskResultStatus.RUNNING
    assert len(mailoutbox) == 1


def test_retries_do_not_count_against_the_per_address_cap(
    client, queue, settings, user, mailoutbox
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "reset_email_per_address": "1/900"}
    ScriptedBackend.reset(transient_error(), transient_error())
    request_reset(client, user.email)

    run_worker()

    assert ScriptedBackend.attempts == 3
    assert len(mailoutbox) == 1


def test_mailgun_503s_are_retried_and_the_third_call_delivers(
    client, queue, settings, monkeypatch, user
):
    monkeypatch.setenv("MAILGUN_API_KEY", "key-test")
    monkeypatch.setenv("MAILGUN_SENDER_DOMAIN", "mg.example.com")
    settings.MAILERS = {"default": mailer_config("mailgun")}
    answers = [
        mock.Mock(status_code=503, text="Service Unavailable", json=dict),
        mock.Mock(status_code=503, text="Service Unavailable", json=dict),
        mock.Mock(
            status_code=200,
            text='{"id": "<1@mg>", "message": "Queued. Thank you."}',
            json=lambda: {"id": "<1@mg>", "message": "Queued. Thank you."},
        ),
    ]
    request_reset(client, user.email)

    with mock.patch("requests.Session.request", side_effect=answers) as request:
        run_worker()

    assert request.call_count == 3
    assert sorted(queue.values_list("status", "return_value")) == [
        (TaskResultStatus.SUCCESSFUL, "attempt 1 failed (AnymailRequestsAPIError); retry queued"),
        (TaskResultStatus.SUCCESSFUL, "attempt 2 failed (AnymailRequestsAPIError); retry queued"),
        (TaskResultStatus.SUCCESSFUL, "sent on attempt 3"),
    ]


def test_old_task_results_are_pruned_by_the_workers_without_cron(client, queue, user, settings):
    settings.TASK_RESULT_RETENTION_DAYS = 7
    request_reset(client, user.email)
    request_reset(client, "nobody@example.com")
    run_worker()  # the worker queues the first pruning when it starts, and runs them
    old, recent = queue.filter(task_path__endswith="password_reset_send").order_by("pk")
    queue.filter(pk=old.pk).update(finished_at=timezone.now() - timedelta(days=8))
    DBTaskResult.objects.filter(task_path=task_results_prune.module_path).update(
        run_after=timezone.now()
    )

    run_worker()

    sends = queue.filter(task_path__endswith="password_reset_send")
    assert list(sends.values_list("pk", flat=True)) == [recent.pk]
    # One pruning always waits for the next hour; it never multiplies.
    waiting = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=task_results_prune.module_path
    )
    assert waiting.count() == 1
    assert waiting.get().run_after > timezone.now() + timedelta(minutes=59)


def test_health_and_send_status_show_the_queue_without_addresses(client, queue, user):
    from io import StringIO
    from unittest import mock

    from django.db import DatabaseError

    request_reset(client, user.email)
    request_reset(client, "nobody@example.com")
    queue.filter(task_path__endswith="password_reset_send").update(
        enqueued_at=timezone.now() - timedelta(seconds=42),
        run_after=timezone.now() - timedelta(seconds=42),
    )

    health = client.get(reverse("health"))
    out = StringIO()
    call_command("send_status", stdout=out)

    assert health.status_code == 200
    body = health.json()
    assert (body["db"], body["queue_waiting"]) == ("ok", 2)
    assert 42 <= body["oldest_waiting_seconds"] <= 45
    assert "no-cache" in health["Cache-Control"]
    assert re.search(r"waiting: 2 \(oldest 4[2-5] s\)", out.getvalue())
    assert "@" not in health.content.decode() + out.getvalue()
    with mock.patch("auth_flow.health.queue_status", side_effect=DatabaseError):
        down = client.get(reverse("health"))
    assert down.status_code == 503
    assert down.json() == {"db": "error"}


def test_tasks_queued_before_the_code_moved_still_run(client, queue, user, mailoutbox):
    from importlib import import_module

    from django.apps import apps
    from django.utils.module_loading import import_string

    client.post(reverse("password_reset"), {"email": user.email})
    queue.update(task_path="auth_flow.tasks.password_reset_send")  # as queued before issue 16

    migration = import_module("auth_flow.migrations.0010_username_canonical")
    migration.queued_tasks_follow_the_move(apps, None)

    (queued,) = queue.all()
    assert queued.task_path == "auth_flow.mail.tasks.password_reset_send"
    assert import_string(queued.task_path).name == "password_reset_send"
