"""Known data breaches: the Pwned Passwords range API and the validator that asks it.

k-anonymity: only the first 5 hex characters of the password's SHA-1 leave the site;
the service answers every suffix it knows under that prefix, padded with decoys, and
the match is made here. https://haveibeenpwned.com/API/v3#PwnedPasswords
"""

import hashlib
import http.client
import logging
import string
import urllib.error
import urllib.request

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_noop

from auth_flow.protection.ratelimit import Rate, rate_window_count, rate_window_peek

logger = logging.getLogger(__name__)

# Marked here, translated where it is said (the English stays a plain str to compare with).
MESSAGE = gettext_noop("This password appears in a known data breach; choose another.")
PREFIX_LENGTH = 5
# A padded range is 800 to 1,000 lines of 40 bytes or so; anything much larger is not one.
MAX_RANGE_BYTES = 1024 * 1024
# Passwords accepted unchecked, counted in the cache (shared by every worker when it is
# Redis) over a day from the first; /health/ shows the count.
UNREACHABLE_SCOPE = "breach_check_unreachable"
UNREACHABLE_WINDOW = Rate(count=0, seconds=24 * 60 * 60)  # a window to count in, no limit


class BreachServiceUnreachable(Exception):
    """Say the range API gave no usable answer, in words that hold no part of the password."""


def breach_range_fetch(*, prefix: str) -> str:
    """Return the range API's answer for a 5-character SHA-1 prefix."""
    request = urllib.request.Request(  # noqa: S310 (the URL is the settings' http(s) one)
        f"{settings.PWNED_PASSWORDS_API_URL}/range/{prefix}",
        headers={
            # Decoy suffixes with a count of 0, so the answer's size says nothing either.
            "Add-Padding": "true",
            # The service asks each client to name itself; headers must be ASCII.
            "User-Agent": f"{settings.SITE_NAME} password check ({settings.SITE_URL})".encode(
                "ascii", "replace"
            ).decode(),
        },
    )
    try:
        with urllib.request.urlopen(  # noqa: S310
            request, timeout=settings.PWNED_PASSWORDS_TIMEOUT
        ) as response:
            body = response.read(MAX_RANGE_BYTES + 1)
    except urllib.error.HTTPError as error:  # before OSError: it is one
        raise BreachServiceUnreachable(f"HTTP {error.code}") from None
    except (OSError, http.client.HTTPException, ValueError) as error:
        # Refused, timed out, reset, not HTTP at all, or a URL http.client refuses (a bad
        # port). Only the error's kind is kept: its text may hold the URL, and so the
        # prefix.
        reason = getattr(error, "reason", None)  # what a URLError wraps
        kind = reason if isinstance(reason, BaseException) else error
        raise BreachServiceUnreachable(type(kind).__name__) from None
    if len(body) > MAX_RANGE_BYTES:
        raise BreachServiceUnreachable("an answer too large to be a range")
    try:
        return body.decode("ascii")
    except UnicodeDecodeError:
        raise BreachServiceUnreachable("an answer that is not a range") from None


def breach_range_count(*, body: str, suffix: str) -> int:
    """Return the count the range answer gives this SHA-1 suffix, 0 when it has none.

    Padding lines carry a count of 0, so a decoy that happened to match is no hit.
    """
    found, lines = 0, 0
    for line in body.splitlines():
        if not line.strip():
            continue
        line_suffix, colon, count = line.strip().partition(":")
        if not (
            colon
            and len(line_suffix) == len(suffix)
            and all(char in string.hexdigits for char in line_suffix)
            and count.isascii()
            and count.isdigit()
        ):
            raise BreachServiceUnreachable("an answer that is not a range")
        lines += 1
        if line_suffix.upper() == suffix:
            found = int(count)
    if not lines:  # every prefix has hundreds of suffixes: an empty page is an error page
        raise BreachServiceUnreachable("an empty answer")
    return found


def password_breach_count(*, password: str) -> int:
    """Return how often the known breaches contain this password, asking by k-anonymity."""
    # SHA-1 because it is what the service indexes, not to protect anything. A lone
    # surrogate (JSON can carry one) must not crash the check; it matches nothing.
    data = password.encode("utf-8", "surrogatepass")
    digest = hashlib.sha1(data, usedforsecurity=False).hexdigest().upper()
    prefix, suffix = digest[:PREFIX_LENGTH], digest[PREFIX_LENGTH:]
    return breach_range_count(body=breach_range_fetch(prefix=prefix), suffix=suffix)


def breach_unreachable_record() -> None:
    """Count one password accepted because the breach check got no answer."""
    rate_window_count(scope=UNREACHABLE_SCOPE, key="all", rate=UNREACHABLE_WINDOW)


def breach_unreachable_count() -> int:
    """Return how many passwords were accepted unchecked in the current day-long window."""
    return rate_window_peek(scope=UNREACHABLE_SCOPE, key="all").count


class BreachedPasswordValidator:
    """Refuse a password that appears in a known data breach (Pwned Passwords).

    Runs only while PWNED_PASSWORDS_CHECK is on (read at each check), and only for a
    password within PASSWORD_MIN_LENGTH and PASSWORD_MAX_LENGTH. When the service
    cannot be reached or answers nonsense the password is accepted: a warning is logged,
    without the password, its hash or its prefix, and the count on /health/ goes up.

    `live_check = False` tells the rules shown while a password is typed
    (accounts.rules) to leave this one out: it sends part of the hash to another
    service and waits for it, so it runs once, on submit.
    """

    live_check = False

    def validate(self, password: str, user=None) -> None:
        if not settings.PWNED_PASSWORDS_CHECK:
            return
        # A password the length rules refuse anyway is not worth a request (nor, past
        # the maximum, hashing megabytes).
        if not settings.PASSWORD_MIN_LENGTH <= len(password) <= settings.PASSWORD_MAX_LENGTH:
            return
        try:
            count = password_breach_count(password=password)
        except BreachServiceUnreachable as error:
            breach_unreachable_record()
            logger.warning(
                "The breach check got no usable answer from %s (%s); the password was "
                "accepted unchecked.",
                settings.PWNED_PASSWORDS_API_URL,
                error,
            )
            return
        if count:
            raise ValidationError(gettext(MESSAGE), code="password_breached")

    def get_help_text(self) -> str:
        return gettext("Your password can't be one that appears in a known data breach.")
