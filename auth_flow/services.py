import ipaddress
from typing import TypedDict

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from auth_flow import tasks
from auth_flow.models import email_canonicalize
from auth_flow.placeholders import value_clean
from auth_flow.ratelimit import client_ip


class RequestMeta(TypedDict):
    """Say when, from where and with what browser a request was made."""

    requested_at: str
    ip: str
    user_agent: str


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
    }


def password_reset_request(*, email: str, meta: RequestMeta) -> None:
    """Queue the reset email for an address, whether or not it has an account."""
    tasks.password_reset_send.enqueue(email=email, meta=meta)


def password_change_notify(*, user_id: int, meta: RequestMeta) -> None:
    """Queue the notice that an account's password has just changed."""
    tasks.password_changed_send.enqueue(user_id=user_id, meta=meta)


class UsernameTaken(Exception):
    """Another sign-up took this username between the form's check and the insert."""


def account_signup(*, username: str, email: str, password: str, meta: RequestMeta) -> None:
    """Create an inactive account and queue its confirmation link, or tell the owner.

    An address that already has an account is answered exactly like a new one (the
    caller shows the same page): the password is hashed either way, and either way one
    email is queued, to the address typed. Usernames are public; a taken one is a
    form error.
    """
    user_model = get_user_model()
    canonical = email_canonicalize(email)
    user = user_model(username=username, email=email, is_active=False)
    user.set_password(password)  # the same cost whether or not the address is known
    try:
        with transaction.atomic():
            owner = user_model._default_manager.filter(email_canonical=canonical).first()
            if owner is None:
                user.save()
    except IntegrityError:
        # Two sign-ups at once: the username or the address went to the other one.
        if user_model._default_manager.filter(username=username).exists():
            raise UsernameTaken from None
        owner = user_model._default_manager.filter(email_canonical=canonical).first()
    if owner is None:
        tasks.email_verification_send.enqueue(user_id=user.pk, meta=meta)
    else:
        tasks.signup_existing_send.enqueue(user_id=owner.pk, meta=meta)
