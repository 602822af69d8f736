import ipaddress
from typing import TypedDict

from django.http import HttpRequest
from django.utils import timezone

from auth_flow import tasks
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
