"""Background sending: durable, retried on transient failures, never holding a secret.

Tasks carry only what the person typed and request metadata; the worker looks accounts
up and makes tokens itself, so no reset token or link is ever stored in the queue.
"""

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from anymail.exceptions import AnymailError, AnymailRecipientsRefused, AnymailRequestsAPIError
from django.conf import settings
from django.db.models.functions import Coalesce, Greatest
from django.tasks import Task, TaskResultStatus, task
from django.utils import timezone

from auth_flow.mail import emails
from auth_flow.models import PendingSignup, SentEmail, email_canonicalize
from auth_flow.protection.ratelimit import Rate, rate_limit_hit_shared, rate_windows_prune

logger = logging.getLogger(__name__)


class EmailDeliveryFailed(Exception):
    """An email could not be delivered; the message names the error class only."""


def error_is_transient(*, error: BaseException) -> bool:
    """Say whether sending again later may succeed."""
    if isinstance(error, AnymailRecipientsRefused):
        return False
    if isinstance(error, AnymailRequestsAPIError):
        # No status means the request never got an answer (network error, timeout).
        status = error.status_code
        return status is None or status == 429 or status >= 500
    if isinstance(error, AnymailError):
        return False
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    # SMTPServerDisconnected, connection refused, timeouts and other socket errors.
    return isinstance(error, OSError)


def send_with_retry(*, task_: Task, attempt: int, kwargs: dict, send: Callable[[], None]) -> str:
    """Run one send attempt; on a transient failure queue the next one with backoff."""
    try:
        send()
    except Exception as error:
        name = type(error).__name__
        # Only the error's class is logged or stored: provider messages can quote the
        # email, and the email holds a reset link.
        if not error_is_transient(error=error):
            logger.error("%s: permanent failure (%s), not retried.", task_.name, name)
            raise EmailDeliveryFailed(f"permanent failure: {name}") from None
        if attempt >= settings.EMAIL_SEND_ATTEMPTS:
            logger.error("%s: failed %d times (%s), giving up.", task_.name, attempt, name)
            raise EmailDeliveryFailed(f"gave up after {attempt} attempts: {name}") from None
        delay = settings.EMAIL_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
        retry = task_
        if task_.get_backend().supports_defer:
            retry = task_.using(run_after=timezone.now() + timedelta(seconds=delay))
        retry.enqueue(**kwargs, attempt=attempt + 1)
        logger.warning(
            "%s: attempt %d failed (%s); retrying in %.0f s.", task_.name, attempt, name, delay
        )
        return f"attempt {attempt} failed ({name}); retry queued"
    return f"sent on attempt {attempt}"


def address_over_cap(*, scope: str, email: str) -> bool:
    """Count one email to this address in its caps (15 minutes, a day); say if over either.

    In the database, so every worker process on every machine counts the same windows.
    The daily cap stops a patient flood from rotating IPs (3 per 15 minutes would still
    be 288 a day) before it trains the owner to mark the site's mail as spam.
    """
    key = email_canonicalize(email)
    over = False
    for name in (scope, f"{scope}_daily"):
        rate = Rate.parse(settings.RATE_LIMITS[name])
        over = rate_limit_hit_shared(scope=name, key=key, rate=rate) or over
    return over


def send_capped(
    *, task_: Task, scope: str, email: str | None, attempt: int, kwargs: dict, send
) -> str:
    """Send through send_with_retry unless the address is over its caps (first try only).

    Counted once per request, not per retry: a flaky provider must not use up the cap.
    """
    if attempt == 1 and email and address_over_cap(scope=scope, email=email):
        logger.warning("%s skipped: the address is over its %s limit.", task_.name, scope)
        return f"skipped: the address is over its {scope} limit"
    return send_with_retry(task_=task_, attempt=attempt, kwargs=kwargs, send=send)


@task
def password_reset_send(*, email: str, meta: dict, attempt: int = 1) -> str:
    """Email a reset link to every active account with this address."""
    return send_capped(
        task_=password_reset_send,
        scope="reset_email_per_address",
        email=email,
        attempt=attempt,
        kwargs={"email": email, "meta": meta},
        send=lambda: emails.password_reset_emails_send(email=email, meta=meta),
    )


@task
def password_changed_send(*, user_id: int, meta: dict, attempt: int = 1) -> str:
    """Tell an account's owner that its password changed."""
    return send_with_retry(
        task_=password_changed_send,
        attempt=attempt,
        kwargs={"user_id": user_id, "meta": meta},
        send=lambda: emails.password_changed_email_send(user_id=user_id, meta=meta),
    )


@task
def signup_email_send(*, pending_id: int, meta: dict, attempt: int = 1) -> str:
    """Email a sign-up's address its confirmation link, or tell the address's owner."""
    # Per address, like the reset cap: nobody can flood an inbox by signing it up.
    email = PendingSignup.objects.filter(pk=pending_id).values_list("email", flat=True).first()
    return send_capped(
        task_=signup_email_send,
        scope="signup_email_per_address",
        email=email,
        attempt=attempt,
        kwargs={"pending_id": pending_id, "meta": meta},
        send=lambda: emails.signup_email_send(pending_id=pending_id, meta=meta),
    )


@task
def copy_test_send(
    *,
    name: str,
    subject: str,
    body: str,
    button: str,
    to: str,
    language: str = "",
    preheader: str = "",
    attempt: int = 1,
) -> str:
    """Send unsaved email copy, in its language, to the staff member who asked for a test."""
    kwargs = {
        "name": name,
        "subject": subject,
        "body": body,
        "button": button,
        "to": to,
        "language": language,
        "preheader": preheader,
    }
    return send_with_retry(
        task_=copy_test_send,
        attempt=attempt,
        kwargs=kwargs,
        send=lambda: emails.copy_test_send(**kwargs),
    )


@dataclass(frozen=True)
class QueueStatus:
    """Say how the email queue is doing, with no address or secret in it."""

    waiting: int
    oldest_waiting_seconds: int
    retries_scheduled: int
    running: int
    failed_last_hour: int


def queue_status() -> QueueStatus:
    """Count what waits, runs and failed in the email queue."""
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    ready = DBTaskResult.objects.ready()
    # Waiting since it was due: a task deferred for a month is not a month late.
    due = Greatest("enqueued_at", Coalesce("run_after", "enqueued_at"))
    oldest = ready.annotate(due=due).order_by("due").values_list("due", flat=True).first()
    return QueueStatus(
        waiting=ready.count(),
        oldest_waiting_seconds=max(0, int((now - oldest).total_seconds())) if oldest else 0,
        retries_scheduled=DBTaskResult.objects.filter(
            status=TaskResultStatus.READY, run_after__gt=now
        )
        .exclude(
            task_path__in=[task_results_prune.module_path, copy_publish_scheduled.module_path]
        )
        .count(),
        running=DBTaskResult.objects.running().count(),
        failed_last_hour=DBTaskResult.objects.failed()
        .filter(finished_at__gte=now - timedelta(hours=1))
        .count(),
    )


@task
def copy_publish_scheduled(*, pk: int, version: int) -> str:
    """Publish an email's draft at the time an approver chose (see mail.publishing)."""
    from auth_flow.mail.publishing import copy_publish_due

    return copy_publish_due(pk=pk, version=version)


PRUNE_EVERY = timedelta(hours=1)


@task
def task_results_prune() -> str:
    """Delete finished task results past their retention, then queue the next pruning."""
    from django_tasks_db.models import DBTaskResult

    # Results hold the address, IP and browser of every request, accounts or not:
    # kept for the admin (failures) for a while, not for ever.
    cutoff = timezone.now() - timedelta(days=settings.TASK_RESULT_RETENTION_DAYS)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lte=cutoff).delete()
    windows = rate_windows_prune()
    signups = pending_signups_prune()
    counted = sent_emails_prune()
    task_results_prune_schedule(delay=PRUNE_EVERY)
    return (
        f"pruned {deleted} task result(s), {windows} ended rate window(s), "
        f"{signups} expired sign-up(s), {counted} sent-email count(s)"
    )


# The overview counts the last 30 days; a few more so a bounce reported late still lands.
SENT_EMAIL_RETENTION = timedelta(days=35)


def sent_emails_prune() -> int:
    """Delete the sent-email counts older than the overview shows."""
    cutoff = timezone.now() - SENT_EMAIL_RETENTION
    deleted, _ = SentEmail.objects.filter(sent_at__lte=cutoff).delete()
    return deleted


def pending_signups_prune() -> int:
    """Delete the sign-ups whose confirmation link has expired."""
    cutoff = timezone.now() - timedelta(seconds=settings.SIGNUP_CONFIRM_TIMEOUT)
    deleted, _ = PendingSignup.objects.filter(created_at__lte=cutoff).delete()
    return deleted


def task_results_prune_schedule(*, delay: timedelta) -> None:
    """Keep one pruning queued, so no cron job is needed (workers call this at start)."""
    from django_tasks_db.models import DBTaskResult

    if not task_results_prune.get_backend().supports_defer:
        return  # an in-process backend would run it now, and again, for ever
    # READY, due or not (ready() would only count the ones due now).
    queued = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=task_results_prune.module_path
    )
    if not queued.exists():
        task_results_prune.using(run_after=timezone.now() + delay).enqueue()


def tasks_requeue_abandoned(*, worker_id: str | None, stale_after: timedelta) -> int:
    """Put back in the queue the tasks a killed worker left marked as running.

    Its own (by id, when a restarted worker has the same one) at once; anyone's once
    they have been running longer than `stale_after`.
    """
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - stale_after
    abandoned = [
        result.pk
        for result in DBTaskResult.objects.running()
        if (worker_id and result.worker_ids and _of_worker(result.worker_ids[-1], worker_id))
        or (result.started_at and result.started_at <= cutoff)
    ]
    return _tasks_requeue(abandoned, why="left running by a stopped worker")


def _of_worker(thread_id: str, worker_id: str) -> bool:
    # A worker's threads are "<worker id>-<n>" (auth_flow.mail.worker.WorkerPool).
    return thread_id == worker_id or thread_id.startswith(f"{worker_id}-")


def tasks_give_back(*, worker_ids: set[str]) -> int:
    """Put back in the queue the tasks these workers hold (they are stopping now)."""
    from django_tasks_db.models import DBTaskResult

    held = [
        result.pk
        for result in DBTaskResult.objects.running()
        if result.worker_ids and result.worker_ids[-1] in worker_ids
    ]
    return _tasks_requeue(held, why="given back by a worker stopping mid-send")


def _tasks_requeue(pks: list, *, why: str) -> int:
    from django_tasks_db.models import DBTaskResult

    if pks:
        DBTaskResult.objects.filter(pk__in=pks, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.READY, started_at=None
        )
        logger.warning("Re-queued %d task(s) %s.", len(pks), why)
    return len(pks)
