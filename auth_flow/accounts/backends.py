import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from auth_flow.models import email_canonicalize
from auth_flow.protection.ratelimit import (
    Rate,
    client_ip_key,
    rate_window_clear,
    rate_window_count,
    rate_window_peek,
)

# The device cookie (OWASP's "Slow Down Online Guessing Attacks with Device Cookies"): a
# browser that has logged in to an account holds a signed "<user pk>:<nonce>" for it, so
# guesses from elsewhere cannot lock that browser out of that account.
DEVICE_COOKIE = "device"
DEVICE_COOKIE_SALT = "auth_flow.device"
# Accounts one browser is remembered for (the most recently logged in to).
DEVICE_COOKIE_ACCOUNTS = 5


@dataclass(frozen=True)
class LoginThrottle:
    """Say why a log-in was refused before its password was checked, and for how long."""

    message: str
    seconds: int

    @property
    def minutes(self) -> int:
        return max(1, -(-self.seconds // 60))


@dataclass(frozen=True)
class FailureCounter:
    """Name the counter a failed log-in is counted in, and what its lock says."""

    scope: str
    key: str
    message: str


def login_identifier_key(identifier: str) -> str:
    """Key failed log-ins by what was typed, whether or not an account has it.

    Not by account: then a lock on "alice" after failures on her email address would
    tell an attacker that the two belong together.
    """
    return email_canonicalize(identifier)


def login_failures_clear(*, user) -> None:
    """Lift the untrusted clients' lock on an account's username and email address."""
    for identifier in {user.get_username(), user.email}:
        if identifier:
            rate_window_clear(scope="login_failures", key=login_identifier_key(identifier))


def device_cookie_entries(*, request: HttpRequest) -> dict[str, str]:
    """Return the accounts this browser's device cookie vouches for, as {user pk: nonce}."""
    value = request.get_signed_cookie(
        DEVICE_COOKIE,
        default=None,
        salt=DEVICE_COOKIE_SALT,
        max_age=settings.DEVICE_COOKIE_MAX_AGE,
    )
    entries = {}
    for entry in (value or "").split(","):
        pk, _, nonce = entry.partition(":")
        if pk and nonce:
            entries[pk] = nonce
    return entries


def device_cookie_value(*, request: HttpRequest, user) -> str:
    """Return the device cookie vouching for this account afresh, beside the others kept."""
    entries = device_cookie_entries(request=request)
    entries.pop(str(user.pk), None)
    # A new nonce at each log-in, as OWASP's scheme does: a lock on the old one ends too.
    entries[str(user.pk)] = secrets.token_urlsafe(16)
    kept = list(entries.items())[-DEVICE_COOKIE_ACCOUNTS:]
    return ",".join(f"{pk}:{nonce}" for pk, nonce in kept)


def account_find(*, identifier: str):
    """Return the account a username or email address names, if any."""
    manager = get_user_model()._default_manager
    if "@" in identifier:
        user = manager.filter(email_canonical=email_canonicalize(identifier)).first()
        if user is not None:
            return user
    return manager.filter(**{manager.model.USERNAME_FIELD: identifier}).first()


class UsernameOrEmailBackend(ModelBackend):
    """Authenticate with the username or the email address, within the log-in limits.

    Every authentication path (the site's log-in form, the admin's, anything calling
    `authenticate()`) comes through here, so the limits live here: failed attempts per
    client IP and per identifier, counted alike for identifiers that have no account so
    the lock says nothing about which exist. A browser holding the account's device
    cookie is exempt from both; its own failures lock that cookie alone.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        failures = self.failure_counter(request=request, identifier=username)
        if throttle := self.throttle(request=request, failures=failures):
            if request is not None:
                request.login_throttle = throttle
            raise PermissionDenied  # authenticate() stops here and reports a failure
        user = self.authenticate_identifier(request, username=username, password=password)
        if user is None:
            rate = Rate.parse(settings.RATE_LIMITS["login_failures"])
            rate_window_count(scope=failures.scope, key=failures.key, rate=rate)
            if request is not None and failures.scope == "login_failures":
                # Only failures count per IP: an office behind one address can log in
                # all day, and guessing from it still stops.
                rate = Rate.parse(settings.RATE_LIMITS["login"])
                rate_window_count(scope="login", key=client_ip_key(request=request), rate=rate)
        else:
            # Only the counter this attempt was checked against: the owner logging in
            # from a trusted browser does not forgive strangers' guesses.
            rate_window_clear(scope=failures.scope, key=failures.key)
        return user

    def authenticate_identifier(self, request, *, username: str, password: str):
        if "@" in username:
            user_model = get_user_model()
            canonical = email_canonicalize(username)
            user = user_model._default_manager.filter(email_canonical=canonical).first()
            if user is not None:
                username = user.get_username()
            # Otherwise it may be a username with an @ in it (made before signup
            # refused them); ModelBackend hashes anyway when no account has it, so an
            # unknown address costs the same time as a known one.
        return super().authenticate(request, username=username, password=password)

    def failure_counter(self, *, request, identifier: str) -> FailureCounter:
        """Count failures against this browser's device cookie if it has one for the
        account, else against the identifier typed (untrusted clients)."""
        entries = device_cookie_entries(request=request) if request is not None else {}
        # Only a browser with a cookie looks the account up first; it has logged in to
        # that account, so the look-up tells it nothing it does not know.
        user = account_find(identifier=identifier) if entries else None
        if user is not None and (nonce := entries.get(str(user.pk))):
            return FailureCounter(
                "login_device_failures",
                nonce,
                "Too many failed attempts to log in from this browser.",
            )
        return FailureCounter(
            "login_failures",
            login_identifier_key(identifier),
            "Too many attempts to log in with this username or email address.",
        )

    def throttle(self, *, request, failures: FailureCounter) -> LoginThrottle | None:
        """Say if a limit refuses this attempt before its password is checked."""
        trusted = failures.scope != "login_failures"
        if request is not None and not trusted:
            rate = Rate.parse(settings.RATE_LIMITS["login"])
            window = rate_window_peek(scope="login", key=client_ip_key(request=request))
            if window.count >= rate.count:
                return LoginThrottle(
                    "Too many attempts to log in from your network.", window.seconds_left
                )
        rate = Rate.parse(settings.RATE_LIMITS["login_failures"])
        window = rate_window_peek(scope=failures.scope, key=failures.key)
        if window.count >= rate.count:
            return LoginThrottle(failures.message, window.seconds_left)
        return None
