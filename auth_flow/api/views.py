"""The JSON API for SPAs and mobile apps: the HTML pages' guarantees, in JSON.

Base `/api/auth/password/`, with a contract that clients of django-rest-passwordreset
(DRPR), dj-rest-auth and djoser can switch to by changing a base URL. The views are
thin: the serializers call the site's own forms, which queue emails and write
passwords exactly as the pages do. No enumeration (every valid address gets the same
answer, and only a task is queued), one-time keys (Django's stateless token, made from
the password hash, which the compare-and-set write changes), per-IP and per-user rate
limits in the same counters as the pages.
"""

from http import HTTPStatus

from django.contrib.auth import update_session_auth_hash
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from auth_flow.accounts.backends import login_failures_clear
from auth_flow.accounts.forms import PasswordChangedElsewhere
from auth_flow.accounts.services import password_change_notify, request_meta
from auth_flow.api.serializers import (
    DetailSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetRequestSerializer,
    PasswordResetValidateSerializer,
    StatusSerializer,
)
from auth_flow.protection.ratelimit import client_ip_key, rate_limit_over

RESET_SENT = _(
    "If an account uses this address, we have emailed it a link to choose a new password."
)
RESET_DONE = _("Your password has been set. You can log in with it now.")
CHANGE_DONE = _("Your password has been changed.")


class ScopeThrottle(BaseThrottle):
    """Count requests in the site's own rate-limit counters, per IP (IPv6 by /64) or user."""

    def allow_request(self, request, view) -> bool:
        user = request.user
        key = f"user:{user.pk}" if user.is_authenticated else client_ip_key(request=request)
        self.over = rate_limit_over(scope=view.rate_limit_scope, key=key)
        return self.over is None

    def wait(self) -> float:
        return self.over.seconds_left


class PasswordApiView(APIView):
    """One endpoint: JSON in and out, rate limited, no session unless it says so."""

    # No session, so no CSRF: a reset needs only what the email carried.
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [ScopeThrottle]
    rate_limit_scope: str
    serializer_class: type[serializers.Serializer]

    def serializer_valid(self, request) -> serializers.Serializer:
        """Return this endpoint's serializer over the request body, validated (else 400)."""
        self.serializer = self.serializer_class(data=request.data, context={"request": request})
        self.serializer.is_valid(raise_exception=True)
        return self.serializer


# The API's documentation (the schema, and Swagger UI), in the language asked for.
STATUS_OK = OpenApiResponse(StatusSerializer, description=pgettext_lazy("API response", "Done."))
INVALID = OpenApiResponse(description=_("Field errors, keyed by the field names sent."))
THROTTLED = OpenApiResponse(
    DetailSerializer,
    # Translators: API documentation; Retry-After is an HTTP header: keep it as it is.
    description=_("Over the rate limit; `Retry-After` says when to try again."),
)
BAD_KEY = OpenApiResponse(DetailSerializer, description=_("The key is invalid, used or expired."))


@extend_schema(
    summary=_("Email a password reset link"),
    description=_(
        "Always the same answer for any valid address, with or without an account: the "
        "request only queues the email."
    ),
    request=PasswordResetRequestSerializer,
    responses={200: STATUS_OK, 400: INVALID, 429: THROTTLED},
)
class PasswordResetRequestApi(PasswordApiView):
    rate_limit_scope = "password_reset"
    serializer_class = PasswordResetRequestSerializer

    def post(self, request):
        self.serializer_valid(request).validated_data["form"].save(request=request._request)
        return Response({"status": "OK", "detail": str(RESET_SENT)})


@extend_schema(
    summary=_("Check a password reset key"),
    request=PasswordResetValidateSerializer,
    responses={200: STATUS_OK, 400: INVALID, 404: BAD_KEY, 429: THROTTLED},
)
class PasswordResetValidateApi(PasswordApiView):
    rate_limit_scope = "password_reset_key"
    serializer_class = PasswordResetValidateSerializer

    def post(self, request):
        serializer = self.serializer_valid(request)
        if serializer.user_from_key(serializer.validated_data) is None:
            return Response(
                {"detail": str(serializer.invalid_message)}, status=HTTPStatus.NOT_FOUND
            )
        return Response({"status": "OK"})


@extend_schema(
    summary=_("Set a new password with a reset key"),
    description=_(
        # Translators: API documentation; keep the field names, the JSON and DRPR,
        # dj-rest-auth and djoser (libraries) as they are.
        "Works once. Ends the account's sessions and emails the owner; does not log in. "
        "Accepts `new_password`, `password` (DRPR), `new_password1` + `new_password2` "
        "(dj-rest-auth) or `new_password` + `re_new_password` (djoser). A bad key is 400 "
        '`{"token": [...]}`, or 404 `{"detail"}` when the body uses DRPR\'s `password`.'
    ),
    request=PasswordResetConfirmSerializer,
    responses={200: STATUS_OK, 400: INVALID, 404: BAD_KEY, 429: THROTTLED},
    examples=[
        OpenApiExample("djoser", value={"uid": "MQ", "token": "…", "new_password": "…"}),
        OpenApiExample("DRPR", value={"token": "MQ.…", "password": "…"}),
    ],
)
class PasswordResetConfirmApi(PasswordApiView):
    rate_limit_scope = "password_reset_key"
    serializer_class = PasswordResetConfirmSerializer

    def post(self, request):
        try:
            form = self.serializer_valid(request).validated_data["form"]
            # The compare-and-set write: of two confirms with one key, one wins.
            form.save()
        except PasswordChangedElsewhere:
            return self.bad_key(self.serializer)
        except serializers.ValidationError as error:
            if "token" in error.detail and self.serializer.drpr_shape:
                return self.bad_key(self.serializer)
            raise
        # The owner proved the address is theirs: strangers' guesses no longer lock it.
        login_failures_clear(user=form.user)
        password_change_notify(user_id=form.user.pk, meta=request_meta(request=request))
        return Response({"status": "OK", "detail": str(RESET_DONE)})

    @staticmethod
    def bad_key(serializer) -> Response:
        message = str(serializer.invalid_message)
        if serializer.drpr_shape:
            return Response({"detail": message}, status=HTTPStatus.NOT_FOUND)
        return Response({"token": [message]}, status=HTTPStatus.BAD_REQUEST)


@extend_schema(
    summary=_("Change the logged-in account's password"),
    description=_(
        # Translators: API documentation; keep X-CSRFToken (an HTTP header), the field
        # names and djoser (a library) as they are.
        "Session authentication with CSRF (an `X-CSRFToken` header). Keeps this session, "
        "ends the account's others, emails the owner. Accepts `old_password` or "
        "`current_password` (djoser), and `new_password` or `new_password1`, with an "
        "optional `new_password2` or `re_new_password`."
    ),
    request=PasswordChangeSerializer,
    responses={
        200: OpenApiResponse(
            DetailSerializer, description=pgettext_lazy("API response", "Changed.")
        ),
        400: INVALID,
        403: OpenApiResponse(DetailSerializer, description=_("Not logged in, or no CSRF token.")),
        429: THROTTLED,
    },
)
class PasswordChangeApi(PasswordApiView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [permissions.IsAuthenticated]
    rate_limit_scope = "password_change"
    serializer_class = PasswordChangeSerializer

    def post(self, request):
        form = self.serializer_valid(request).validated_data["form"]
        try:
            form.save()
        except PasswordChangedElsewhere:
            return Response(
                {
                    "non_field_errors": [
                        gettext("Your password was changed elsewhere; log in again.")
                    ]
                },
                status=HTTPStatus.BAD_REQUEST,
            )
        # This session gets the new hash and stays; the account's others end.
        update_session_auth_hash(request._request, form.user)
        password_change_notify(user_id=form.user.pk, meta=request_meta(request=request))
        return Response({"detail": str(CHANGE_DONE)})
