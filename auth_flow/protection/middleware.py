"""Give a browser that has just logged in its device cookie."""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from auth_flow.protection.devices import DEVICE_COOKIE, DEVICE_COOKIE_SALT, device_cookie_value


@receiver(user_logged_in, dispatch_uid="auth_flow.device_cookie")
def device_cookie_mark(*, request: HttpRequest | None, user, **kwargs) -> None:
    """Mark the request whose browser has just logged in, for DeviceCookieMiddleware."""
    if request is not None:
        request.device_cookie_user = user


class DeviceCookieMiddleware:
    """Give a browser that has just logged in its device cookie for that account.

    Whatever logged it in (the site's form, the admin's, a confirmation link), so the
    backend can tell this browser from a stranger's the next time. Log-out keeps it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if user := getattr(request, "device_cookie_user", None):
            response.set_signed_cookie(
                DEVICE_COOKIE,
                device_cookie_value(request=request, user=user),
                salt=DEVICE_COOKIE_SALT,
                max_age=settings.DEVICE_COOKIE_MAX_AGE,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
