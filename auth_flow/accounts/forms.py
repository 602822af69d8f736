from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.hashers import check_password

from auth_flow.accounts.backends import LoginThrottle
from auth_flow.accounts.services import password_reset_request, request_meta
from auth_flow.models import User
from auth_flow.protection.ratelimit import (
    Rate,
    rate_window_clear,
    rate_window_count,
    rate_window_peek,
)


class SignupForm(auth_forms.UserCreationForm):
    """Create an account with a username, an email address and a password."""

    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="Used to reset your password if you forget it.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(auth_forms.UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_username(self) -> str:
        return username_check(username=super().clean_username())

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"])
        local = email.rpartition("@")[0]
        # Look-alike letters (the long s, the ff ligature, Cyrillic a) spell another
        # address to a person and the same one to a mail server; few mailboxes need them.
        if not local.isascii():
            raise forms.ValidationError(
                "Use an address whose part before the @ has only ASCII letters, digits "
                "and punctuation."
            )
        # Whether an account has it is never said here: see services.account_signup.
        return email


def username_check(*, username: str) -> str:
    """Refuse a username that log-in would read as an email address."""
    # Log-in reads an identifier with an @ as an email address first.
    if username and "@" in username:
        raise forms.ValidationError(
            "Usernames can't contain @ (log in with your email address instead)."
        )
    return username


class SignupConfirmForm(forms.Form):
    """Confirm a pending sign-up with the password chosen for it, under a free username.

    The password is what makes the link the signer's own: someone who signed up with
    another person's address cannot have that person confirm an account whose password
    they know, since its owner would have to type it. The username is checked again
    here, as sign-up reserved none; only the address's owner sees this page.
    """

    username = forms.CharField(
        label="Username",
        max_length=150,
        validators=[User.username_validator],
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        help_text="The password you chose when you signed up.",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, pending, throttle: LoginThrottle | None = None, **kwargs):
        self.pending = pending
        # Set when wrong passwords for this link reached the limit: refused unchecked.
        self.throttle = throttle
        super().__init__(*args, initial={"username": pending.username}, **kwargs)

    def clean_username(self) -> str:
        username = username_check(username=self.cleaned_data["username"])
        if User._default_manager.filter(username=username).exists():
            raise forms.ValidationError(
                "Someone took this username since you signed up. Choose another.",
                code="unique",
            )
        return username

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if self.throttle is not None:
            raise throttle_error(throttle=self.throttle)
        if not check_password(password, self.pending.password):
            raise forms.ValidationError(
                "This is not the password chosen at sign-up.", code="password_incorrect"
            )
        return password


def throttle_error(*, throttle: LoginThrottle) -> forms.ValidationError:
    """Return the error that says why a limit refused, and when to try again."""
    minutes = throttle.minutes
    return forms.ValidationError(
        f"{throttle.message} For your security, try again in {minutes} "
        f"minute{'s' if minutes != 1 else ''}.",
        code="throttled",
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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.label = "Username or email"
        # Room for a full email address; the backend decides which one it was.
        username.max_length = 254
        username.widget.attrs["maxlength"] = 254


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


class SetPasswordForm(CheckedSetPasswordMixin, auth_forms.SetPasswordForm):
    """Set a password from a reset link, once."""


class PasswordChangeForm(CheckedSetPasswordMixin, auth_forms.PasswordChangeForm):
    """Change a password, unless another request changed it since the old one was checked.

    Wrong old passwords are counted per account, by the page and the API alike, with the
    log-in's numbers: a stolen session cannot guess the password here without limit.
    """

    failures_scope = "password_change_failures"
    # Set when the limit refused the old password unchecked; the views answer 429.
    throttle: LoginThrottle | None = None

    def clean_old_password(self) -> str:
        rate = Rate.parse(settings.RATE_LIMITS["login_failures"])
        key = str(self.user.pk)
        window = rate_window_peek(scope=self.failures_scope, key=key)
        if window.count >= rate.count:
            # Refused before checking, so even the right password waits out the window.
            self.throttle = LoginThrottle(
                "Too many wrong passwords for this account.", window.seconds_left
            )
            raise throttle_error(throttle=self.throttle)
        try:
            old_password = super().clean_old_password()
        except forms.ValidationError:
            rate_window_count(scope=self.failures_scope, key=key, rate=rate)
            raise
        rate_window_clear(scope=self.failures_scope, key=key)
        return old_password
