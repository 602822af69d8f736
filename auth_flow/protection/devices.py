"""Device cookies: a browser that has logged in to an account is trusted for it.

OWASP's "Slow Down Online Guessing Attacks with Device Cookies": guesses from elsewhere
cannot lock a trusted browser out of its account. Each entry is bound to the account's
password hash, so a reset or change (the owner taking the account back from someone
who knew the password) ends every browser's trust but the one that logs in next.
"""

import secrets

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare, salted_hmac

# The device cookie (OWASP's "Slow Down Online Guessing Attacks with Device Cookies"): a
# browser that has logged in to an account holds a signed "<user pk>:<nonce>:<tag>" for it, so
# guesses from elsewhere cannot lock that browser out of that account.
DEVICE_COOKIE = "device"
DEVICE_COOKIE_SALT = "auth_flow.device"
# Accounts one browser is remembered for (the most recently logged in to).
DEVICE_COOKIE_ACCOUNTS = 5


def _password_tag(user) -> str:
    # Changes whenever the password does; says nothing about the password itself.
    return salted_hmac(DEVICE_COOKIE_SALT, user.password or "", algorithm="sha256").hexdigest()[
        :16
    ]


def device_cookie_entries(*, request: HttpRequest) -> dict[str, tuple[str, str]]:
    """Return the accounts this browser's device cookie vouches for, as {pk: (nonce, tag)}."""
    value = request.get_signed_cookie(
        DEVICE_COOKIE,
        default=None,
        salt=DEVICE_COOKIE_SALT,
        max_age=settings.DEVICE_COOKIE_MAX_AGE,
    )
    entries = {}
    for entry in (value or "").split(","):
        pk, nonce, tag = [*entry.split(":"), "", ""][:3]
        if pk and nonce and tag:
            entries[pk] = (nonce, tag)
    return entries


def device_cookie_nonce(*, request: HttpRequest, user) -> str | None:
    """Return this browser's nonce for the account, if it is trusted for it still."""
    nonce, tag = device_cookie_entries(request=request).get(str(user.pk), ("", ""))
    if nonce and constant_time_compare(tag, _password_tag(user)):
        return nonce
    return None


def device_cookie_value(*, request: HttpRequest, user) -> str:
    """Return the device cookie vouching for this account afresh, beside the others kept."""
    entries = device_cookie_entries(request=request)
    entries.pop(str(user.pk), None)
    # A new nonce at each log-in, as OWASP's scheme does: a lock on the old one ends too.
    entries[str(user.pk)] = (secrets.token_urlsafe(16), _password_tag(user))
    kept = list(entries.items())[-DEVICE_COOKIE_ACCOUNTS:]
    return ",".join(f"{pk}:{nonce}:{tag}" for pk, (nonce, tag) in kept)
