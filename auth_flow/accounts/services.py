"""What the account flows do beyond a form: queue their emails, keep pending sign-ups."""

import ipaddress
from typing import TypedDict

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone, translation

from auth_flow.i18n import TIME_ZONE_FIELD, language_code_clean, time_zone_clean
from auth_flow.mail import tasks
from auth_flow.mail.placeholders import value_clean
from auth_flow.models import PendingSignup, email_canonicalize
from auth_flow.protection.ratelimit import client_ip


class RequestMeta(TypedDict):
    """Say when, from where and with what browser a request was made."""

    requested_at: str
    ip: str
    user_agent: str
    # The page's language when the request was made (a code from LANGUAGES), and the
    # time zone its browser reported (an IANA name, or ""): the emails' fallbacks.
    language: str
    time_zone: str


def request_meta(*, request: HttpRequest) -> RequestMeta:
    """Describe a request for the emails that tell a person what happened."""
    try:
        ip = str(ipaddress.ip_address(client_ip(request=request)))
    except ValueError:  # a forwarded header carries whatever a client wrote
        ip = ""
    return {
        "requested_at": timezone.now().isoformat(timespec="seconds"),
        "ip": ip,
        # Long enough to name a browser, short enough to keep junk out of the queue;
        # no control characters (PostgreSQL's JSON refuses NUL: a 500 without gunicorn).
        "user_agent": value_clean(request.headers.get("User-Agent", "")[:300]),
        "language": language_code_clean(translation.get_language()) or settings.LANGUAGE_CODE,
        "time_zone": time_zone_clean(_posted(request).get(TIME_ZONE_FIELD)),
    }


def _posted(request: HttpRequest):
    # A form's fields, or an API request's JSON object (DRF's request.data).
    data = getattr(request, "data", None)
    if data is None:
        data = request.POST
    return data if hasattr(data, "get") else {}


def password_reset_request(*, email: str, meta: RequestMeta) -> None:
    """Queue the reset email for an address, whether or not it has an account."""
    tasks.password_reset_send.enqueue(email=email, meta=meta)


def password_change_notify(*, user_id: int, meta: RequestMeta) -> None:
    """Queue the notice that an account's password has just changed."""
    tasks.password_changed_send.enqueue(user_id=user_id, meta=meta)


class UsernameTaken(Exception):
    """Another account took this username after the sign-up chose it."""


class SignupLinkUsed(Exception):
    """The sign-up was confirmed already, or another one for its address was."""


def account_signup(*, username: str, email: str, password: str, meta: RequestMeta) -> None:
    """Keep a pending sign-up and queue the email that decides what it becomes.

    The same work for every address, with an account or not: one hash, one row, one
    task; nothing is reserved (neither username nor address) until the address owner
    confirms. The worker emails a confirmation link, or tells an existing owner.
    """
    pending = PendingSignup(
        username=username, email=email, email_canonical=email_canonicalize(email)
    )
    pending.password = make_password(password)
    pending.save()
    tasks.signup_email_send.enqueue(pending_id=pending.pk, meta=meta)


def signup_confirm(*, pending: PendingSignup, username: str) -> AbstractBaseUser:
    """Turn a pending sign-up into a confirmed account, once, and void its rivals.

    The first sign-up confirmed for an address wins: the unique username and canonical
    address make a rival's insert wait for this transaction and then fail, and the
    pending rows of the address are deleted with the insert. The insert comes first so
    that every confirmation of one address queues on the same index entry (deleting
    the rows first had two confirmations lock each other's rows: a deadlock).
    """
    user_model = get_user_model()
    user = user_model(
        username=username,
        email=pending.email,
        password=pending.password,
        email_confirmed_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            user.save()
            rows = PendingSignup.objects.filter(email_canonical=pending.email_canonical)
            if pending.pk not in {pk for pk in rows.values_list("pk", flat=True)}:
                raise SignupLinkUsed  # rolled back with the insert
            rows.delete()
    except IntegrityError:
        # Rolled back. Confirmed already (this link or a rival), or the username went.
        if not PendingSignup.objects.filter(pk=pending.pk).exists():
            raise SignupLinkUsed from None
        if user_model._default_manager.filter(username=username).exists():
            raise UsernameTaken from None
        # The address got an account some other way (staff): nothing left to confirm.
        PendingSignup.objects.filter(email_canonical=pending.email_canonical).delete()
        raise SignupLinkUsed from None
    return user
