from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from auth_flow.models import email_canonicalize
from auth_flow.ratelimit import (
    Rate,
    client_ip,
    rate_window_clear,
    rate_window_count,
    rate_window_peek,
)


@dataclass(frozen=True)
class LoginThrottle:
    """Say why a log-in was refused before its password was checked, and for how long."""

    message: str
    seconds: int

    @property
    def minutes(self) -> int:
        return max(1, -(-self.seconds // 60))


def login_identifier_key(identifier: str) -> str:
    """Key failed log-ins by what was typed, whether or not an account has it.

    Not by account: then a lock on "alice" after failures on her email address would
    tell an attacker that the two belong together.
    """
    return email_canonicalize(identifier)


class UsernameOrEmailBackend(ModelBackend):
    """Authenticate with the username or the email address, within the log-in limits.

    Every authentication path (the site's log-in form, the admin's, anything calling
    `authenticate()`) comes through here, so the limits live here: attempts per client
    IP, and failed attempts per identifier, counted alike for identifiers that have no
    account so the lock says nothing about which exist.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        if throttle := self.throttle(request=request, identifier=username):
            if request is not None:
                request.login_throttle = throttle
            raise PermissionDenied  # authenticate() stops here and reports a failure
        user = self.authenticate_identifier(request, username=username, password=password)
        failures = ("login_failures", login_identifier_key(username))
        if user is None:
            rate = Rate.parse(settings.RATE_LIMITS["login_failures"])
            rate_window_count(scope=failures[0], key=failures[1], rate=rate)
        else:
            rate_window_clear(scope=failures[0], key=failures[1])
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

    def throttle(self, *, request, identifier: str) -> LoginThrottle | None:
        """Count this attempt against the client's IP; say if a limit refuses it."""
        if request is not None:
            rate = Rate.parse(settings.RATE_LIMITS["login"])
            window = rate_window_count(scope="login", key=client_ip(request=request), rate=rate)
            if window.count > rate.count:
                return LoginThrottle(
                    "Too many attempts to log in from your network.", window.seconds_left
                )
        rate = Rate.parse(settings.RATE_LIMITS["login_failures"])
        window = rate_window_peek(scope="login_failures", key=login_identifier_key(identifier))
        if window.count >= rate.count:
            return LoginThrottle(
                "Too many attempts to log in with this username or email address.",
                window.seconds_left,
            )
        return None
