"""The account forms: Django's, with canonical names, guess limits and a checked write."""

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.hashers import check_password
from django.core.validators import MaxLengthValidator
from django.urls import reverse_lazy
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from auth_flow.accounts.backends import LoginThrottle
from auth_flow.accounts.services import password_reset_request, request_meta
from auth_flow.models import User, email_canonicalize
from auth_flow.protection.ratelimit import (
    Rate,
    rate_window_clear,
    rate_window_count,
)

# Every form's new-password fields: the first is checked against the rules as it is
# typed, and both keep what was typed when the form comes back with errors (site.js).
NEW_PASSWORD_FIELDS = {"password1", "password2", "new_password1", "new_password2"}


def password_field_cap(*, field: forms.CharField) -> None:
    """Refuse a password longer than PASSWORD_MAX_LENGTH before anything hashes it."""
    field.validators.append(MaxLengthValidator(settings.PASSWORD_MAX_LENGTH))
    field.widget.attrs["maxlength"] = settings.PASSWORD_MAX_LENGTH


class NewPasswordMixin:
    """Put the password rules' errors under the new password, not under its confirmation,
    and mark the new-password fields for the page's script.

    Django reports the rules' errors on the confirmation field, so "This password is too
    common." sat under the field that was fine, and focus went there. Only a mismatch
    belongs to the confirmation.
    """

    new_password_field = "new_password1"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name in NEW_PASSWORD_FIELDS:
                # Kept by the script across an error swap; never sent back by the server.
                field.widget.attrs["data-keep-value"] = ""
                field.widget.attrs["maxlength"] = settings.PASSWORD_MAX_LENGTH
        self.fields[self.new_password_field].widget.attrs["data-rules-url"] = reverse_lazy(
            "password_rules"
        )

    def validate_password_for_user(self, user, *args, **kwargs):
        kwargs.pop("password_field_name", None)
        super().validate_password_for_user(user, password_field_name=self.new_password_field)


class SignupForm(NewPasswordMixin, auth_forms.UserCreationForm):
    """Create an account with a username, an email address and a password."""

    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        help_text=_("Used to reset your password if you forget it."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    new_password_field = "password1"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django's help says "@" is allowed, which log-in would read as an address.
        self.fields["username"].help_text = gettext(
            "Up to 150 characters: letters, digits and . + - _ (no @)."
        )

    class Meta(auth_forms.UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_username(self) -> str:
        # Django's check is case-insensitive; this one also knows look-alike letters.
        return username_check(username=super().clean_username())

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"])
        local = email.rpartition("@")[0]
        # Look-alike letters (the long s, the ff ligature, Cyrillic a) spell another
        # address to a person and the same one to a mail server; few mailboxes need them.
        if not local.isascii():
            raise forms.ValidationError(
                gettext(
                    "Use an address whose part before the @ has only ASCII letters, digits "
                    "and punctuation."
                )
            )
        # Whether an account has it is never said here: see services.account_signup.
        return email


# Django's own message (and so its translations), as its sign-up form says it.
USERNAME_TAKEN = User._meta.get_field("username").error_messages["unique"]
USERNAME_TAKEN_SINCE = _("Someone took this username since you signed up. Choose another.")


def username_check(*, username: str, taken_message: str | Promise = USERNAME_TAKEN) -> str:
    """Refuse a username log-in would read as an address, or one another account spells.

    Spelled alike means the same canonical form (NFKC + casefold, as addresses): "Alice"
    and "alice" in fullwidth letters (U+FF41…) are "alice", and could otherwise
    impersonate her or lift the log-in lock on her name.
    """
    # Log-in reads an identifier with an @ as an email address first.
    if username and "@" in username:
        raise forms.ValidationError(
            gettext("Usernames can't contain @ (log in with your email address instead).")
        )
    if (
        username
        and User._default_manager.filter(username_canonical=email_canonicalize(username)).exists()
    ):
        raise forms.ValidationError(taken_message, code="unique")
    return username


class SignupConfirmForm(forms.Form):
    """Confirm a pending sign-up with the password chosen for it, under a free username.

    The password is what makes the link the signer's own: someone who signed up with
    another person's address cannot have that person confirm an account whose password
    they know, since its owner would have to type it. Nothing the signer typed is shown
    (not even the username: it could read "Your temporary password is …"); the owner
    types the username again, checked here as sign-up reserved none.
    """

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[User.username_validator],
        help_text=_("The username you chose when you signed up, or another one."),
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        help_text=_("The password you chose when you signed up."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    failures_scope = "signup_confirm_failures"
    # Set when wrong passwords for this link reached the limit: the view answers 429.
    throttle: LoginThrottle | None = None

    def __init__(self, *args, pending, **kwargs):
        self.pending = pending
        super().__init__(*args, **kwargs)
        password_field_cap(field=self.fields["password"])

    def clean_username(self) -> str:
        # Normalised as Django's sign-up form does (NFKC), then checked by its canonical form.
        username = User.normalize_username(self.cleaned_data["username"])
        return username_check(username=username, taken_message=USERNAME_TAKEN_SINCE)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        # Wrong passwords for one link are limited like log-ins: the link alone must not
        # let someone guess the password chosen with it.
        self.throttle = guess_throttle(
            scope=self.failures_scope,
            key=str(self.pending.pk),
            message=gettext("Too many wrong passwords for this link."),
        )
        if self.throttle is not None:
            raise throttle_error(throttle=self.throttle)
        if not check_password(password, self.pending.password):
            raise forms.ValidationError(
                gettext("This is not the password chosen at sign-up."), code="password_incorrect"
            )
        return password


def guess_throttle(*, scope: str, key: str, message: str) -> LoginThrottle | None:
    """Count a password guess before it is checked; say if it goes over the limit.

    Counted first (one atomic step), not after a failed check: guesses sent in parallel
    would otherwise all read the same count and all be checked. The caller clears the
    count when the guess was right. The log-in failure limit's numbers.
    """
    rate = Rate.parse(settings.RATE_LIMITS["login_failures"])
    window = rate_window_count(scope=scope, key=key, rate=rate)
    if window.count > rate.count:
        return LoginThrottle(message, window.seconds_left)
    return None


def throttle_error(*, throttle: LoginThrottle) -> forms.ValidationError:
    """Return the error that says why a limit refused, and when to try again."""
    minutes = throttle.minutes
    message = ngettext(
        # Translators: %(reason)s is a whole sentence saying which limit was reached,
        # such as "Too many wrong passwords for this link."
        "%(reason)s For your security, try again in %(minutes)s minute.",
        "%(reason)s For your security, try again in %(minutes)s minutes.",
        minutes,
    )
    return forms.ValidationError(
        message, code="throttled", params={"reason": throttle.message, "minutes": minutes}
    )


class ThrottledLoginMixin:
    """Say when to try again if the backend refused a log-in over its limits."""

    def get_invalid_login_error(self):
        throttle = getattr(self.request, "login_throttle", None)
        if throttle is None:
            return super().get_invalid_login_error()
        return throttle_error(throttle=throttle)


class LoginForm(ThrottledLoginMixin, auth_forms.AuthenticationForm):
    """Log in with a username or an email address."""

    # Django's says "username ... may be case-sensitive" under a field labelled
    # "Username or email"; the same words for unknown names and wrong passwords.
    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "invalid_login": _(
            "That username or email address and password don't match. Check both and "
            "try again, or reset your password."
        ),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.label = gettext("Username or email")
        # Room for a full email address; the backend decides which one it was.
        username.max_length = 254
        username.widget.attrs["maxlength"] = 254
        # A megabyte "password" must not cost the server a hash; no password set here is
        # longer, so a longer one is simply wrong.
        password_field_cap(field=self.fields["password"])


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's log-in form, with the same limits and messages as the site's."""


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Queue the reset email instead of sending it inside the request.

    Django's PasswordResetView calls `save()` with the request; here that only queues a
    task carrying the submitted address and request metadata, so a known and an unknown
    address cost the request exactly the same. The worker does the rest.
    """

    def save(self, *, request, **kwargs) -> None:
        password_reset_request(
            email=self.cleaned_data["email"], meta=request_meta(request=request)
        )


class PasswordChangedElsewhere(Exception):
    """The stored password changed after this request checked it: another one won."""


class CheckedSetPasswordMixin:
    """Write the new password only if the one this request checked is still stored.

    The reset token is made from the password hash, and the change form checks the old
    password against it; two requests that both passed those checks must not both
    succeed. A conditional UPDATE is the compare-and-set (select_for_update alone does
    nothing on SQLite): the first writes, the second finds the hash changed.
    """

    def set_password_and_save(self, user, password_field_name="password1", commit=True):  # noqa: S107
        checked = user.password
        password = self.cleaned_data[password_field_name]
        user.set_password(password)
        if not commit:
            return user
        written = get_user_model()._default_manager.filter(pk=user.pk, password=checked)
        if not written.update(password=user.password):
            user.password = checked
            raise PasswordChangedElsewhere
        user._password = None
        password_validation.password_changed(password, user)
        return user


class SetPasswordForm(NewPasswordMixin, CheckedSetPasswordMixin, auth_forms.SetPasswordForm):
    """Set a password from a reset link, once."""


class PasswordChangeForm(NewPasswordMixin, CheckedSetPasswordMixin, auth_forms.PasswordChangeForm):
    """Change a password, unless another request changed it since the old one was checked.

    Wrong old passwords are counted per account, by the page and the API alike, with the
    log-in's numbers: a stolen session cannot guess the password here without limit.
    """

    failures_scope = "password_change_failures"
    # Set when the limit refused the old password unchecked; the views answer 429.
    throttle: LoginThrottle | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        password_field_cap(field=self.fields["old_password"])

    def clean_old_password(self) -> str:
        key = str(self.user.pk)
        self.throttle = guess_throttle(
            scope=self.failures_scope,
            key=key,
            message=gettext("Too many wrong passwords for this account."),
        )
        if self.throttle is not None:
            # Refused before checking, so even the right password waits out the window.
            raise throttle_error(throttle=self.throttle)
        old_password = super().clean_old_password()
        rate_window_clear(scope=self.failures_scope, key=key)
        # Right, so kept if the new password comes back with errors (a wrong one is not).
        self.fields["old_password"].widget.attrs["data-keep-value"] = ""
        return old_password
