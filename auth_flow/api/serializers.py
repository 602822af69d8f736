"""The JSON API's request shapes: thin wrappers over the site's own forms.

Each serializer accepts the field names of django-rest-passwordreset (DRPR), dj-rest-auth
and djoser, hands the values to the same Django form the HTML pages use (so validation,
the queue and the compare-and-set password write are one code path), and reports the
form's errors under the name the client sent.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.forms import Form
from django.utils.encoding import force_str
from django.utils.functional import Promise
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers

from auth_flow.accounts.forms import (
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
    throttle_error,
)

# Longer than any key the site makes; anything longer is junk, refused before parsing.
KEY_MAX_LENGTH = 200


def form_run(*, form: Form, names: dict[str, str]) -> Form:
    """Validate a form, raising its errors keyed by the field names the client used."""
    if not form.is_valid():
        if throttle := getattr(form, "throttle", None):
            # A limit refused it (too many wrong old passwords): 429 with Retry-After and
            # the page's words (DRF would append its own to `detail` if given the wait).
            refused = exceptions.Throttled(detail=throttle_error(throttle=throttle).messages[0])
            refused.wait = throttle.seconds
            raise refused
        errors: dict[str, list[str]] = {}
        for field, messages in form.errors.items():
            key = "non_field_errors" if field == "__all__" else names.get(field, field)
            errors.setdefault(key, []).extend(force_str(message) for message in messages)
        raise serializers.ValidationError(errors)
    return form


def first_given(data: dict, *names: str) -> str | None:
    """Return the first of these names the client sent."""
    return next((name for name in names if name in data), None)


def password_field(help_text: str | Promise) -> serializers.CharField:
    """Return an optional password field: which of the names is required is the client's."""
    return serializers.CharField(required=False, trim_whitespace=False, help_text=help_text)


class NewPasswordSerializer(serializers.Serializer):
    """The new password, under each client's names (one of the first two is required)."""

    # Translators: API documentation; djoser, DRPR (django-rest-passwordreset) and
    # dj-rest-auth are libraries, and new_password a field name: keep them as they are.
    new_password = password_field(_("The new password (djoser, DRPR-style clients)."))
    new_password1 = password_field(_("dj-rest-auth's name for new_password."))
    new_password2 = password_field(_("dj-rest-auth's confirmation."))
    re_new_password = password_field(_("djoser's confirmation."))


class PasswordResetRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)

    def validate(self, attrs):
        attrs["form"] = form_run(form=PasswordResetForm(data=attrs), names={})
        return attrs


class ResetKeySerializer(serializers.Serializer):
    """Read a reset key: `token` as "<uidb64>.<token>", or `uid` + `token`."""

    token = serializers.CharField(
        max_length=KEY_MAX_LENGTH,
        trim_whitespace=True,
        # Translators: API documentation; keep "<uid>.<token>" and `uid` as they are.
        help_text=_('The key from the email ("<uid>.<token>"), or the token part with `uid`.'),
    )
    uid = serializers.CharField(
        max_length=KEY_MAX_LENGTH,
        required=False,
        # Translators: API documentation; keep `token` as it is.
        help_text=_("The uid part (djoser, dj-rest-auth), when `token` is the token part only."),
    )

    invalid_message = _("This password reset link is invalid, used or expired.")

    def user_from_key(self, attrs) -> object | None:
        """Return the account the key is for, if the key is valid now."""
        uid, token = attrs.get("uid"), attrs["token"]
        if uid is None:
            uid, _, token = token.partition(".")
        User = get_user_model()
        try:
            # As Django's PasswordResetConfirmView.get_user: junk is "no such account".
            user = User._default_manager.get(pk=urlsafe_base64_decode(uid).decode())
        except (ValueError, TypeError, OverflowError, DjangoValidationError, User.DoesNotExist):
            return None
        # Not for an account staff turned off (as the page's PasswordResetConfirmView).
        valid = user.is_active and default_token_generator.check_token(user, token)
        return user if valid else None


class PasswordResetValidateSerializer(ResetKeySerializer):
    pass


class PasswordResetConfirmSerializer(NewPasswordSerializer, ResetKeySerializer):
    """Set a new password from a reset key, in any of the clients' field names."""

    password = password_field(_("DRPR's name for new_password."))

    def validate(self, attrs):
        names = password_names(attrs)
        user = self.user_from_key(attrs)
        if user is None:
            raise serializers.ValidationError({"token": [self.invalid_message]})
        form = SetPasswordForm(user, data=password_form_data(attrs, names))
        attrs["form"] = form_run(form=form, names=names)
        return attrs

    @property
    def drpr_shape(self) -> bool:
        """Say whether the client speaks DRPR (a bad key is then 404 with `detail`)."""
        return "password" in self.initial_data


class PasswordChangeSerializer(NewPasswordSerializer):
    """Change the logged-in account's password, in any of the clients' field names."""

    old_password = password_field(_("The account's current password."))
    current_password = password_field(_("djoser's name for old_password."))

    def validate(self, attrs):
        names = password_names(attrs)
        data = password_form_data(attrs, names)
        old = first_given(attrs, "old_password", "current_password") or "old_password"
        names["old_password"] = old
        data["old_password"] = attrs.get(old, "")
        form = PasswordChangeForm(self.context["request"].user, data=data)
        attrs["form"] = form_run(form=form, names=names)
        return attrs


def password_names(attrs: dict) -> dict[str, str]:
    """Map the form's password fields to the names this client used; refuse none given."""
    new = first_given(attrs, "new_password", "new_password1", "password")
    if new is None:
        # DRF's own message, and so its translations.
        required = serializers.Field.default_error_messages["required"]
        raise serializers.ValidationError({"new_password": [required]})
    again = first_given(attrs, "new_password2", "re_new_password") or new
    return {"new_password1": new, "new_password2": again}


def password_form_data(attrs: dict, names: dict[str, str]) -> dict[str, str]:
    """Return Django's SetPasswordForm data; without a confirmation field, the same twice."""
    return {form_name: attrs[name] for form_name, name in names.items()}


class StatusSerializer(serializers.Serializer):
    status = serializers.CharField(default="OK")
    detail = serializers.CharField(required=False)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()
