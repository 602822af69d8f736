"""Log in with a username or an email address, within the log-in limits."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

from auth_flow.models import email_canonicalize
from auth_flow.protection.devices import DEVICE_COOKIE, device_cookie_nonce
from auth_flow.protection.ratelimit import (
    Rate,
    client_ip_key,
    rate_window_clear,
    rate_window_count,
    rate_window_release,
)


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
        # Counted before the password is checked (and taken back if it was right), so
        # guesses sent in parallel cannot all slip under the limit at once.
        if throttle := self.throttle(request=request, failures=failures):
            if request is not None:
                request.login_throttle = throttle
            raise PermissionDenied  # authenticate() stops here and reports a failure
        user = self.authenticate_identifier(request, username=username, password=password)
        if user is not None:
            # Only the counter this attempt was checked against: the owner logging in
            # from a trusted browser does not forgive strangers' guesses.
            rate_window_clear(scope=failures.scope, key=failures.key)
            if request is not None and failures.scope == "login_failures":
                # Only failures count per IP: an office behind one address can log in
                # all day, and guessing from it still stops.
                rate_window_release(scope="login", key=client_ip_key(request=request))
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
        nonce = None
        if request is not None and request.COOKIES.get(DEVICE_COOKIE):
            # Only a browser with a cookie looks the account up first; it has logged in
            # to an account, so the look-up tells it nothing it does not know.
            user = account_find(identifier=identifier)
            nonce = user and device_cookie_nonce(request=request, user=user)
        if nonce:
            return FailureCounter(
                "login_device_failures",
                nonce,
                gettext("Too many failed attempts to log in from this browser."),
            )
        return FailureCounter(
            "login_failures",
            login_identifier_key(identifier),
            gettext("Too many attempts to log in with this username or email address."),
        )

    def throttle(self, *, request, failures: FailureCounter) -> LoginThrottle | None:
        """Count this attempt; say if a limit refuses it before its password is checked."""
        trusted = failures.scope != "login_failures"
        if request is not None and not trusted:
            rate = Rate.parse(settings.RATE_LIMITS["login"])
            window = rate_window_count(
                scope="login", key=client_ip_key(request=request), rate=rate
            )
            if window.count > rate.count:
                return LoginThrottle(
                    gettext("Too many attempts to log in from your network."), window.seconds_left
                )
        rate = Rate.parse(settings.RATE_LIMITS["login_failures"])
        window = rate_window_count(scope=failures.scope, key=failures.key, rate=rate)
        if window.count > rate.count:
            return LoginThrottle(failures.message, window.seconds_left)
        return None
