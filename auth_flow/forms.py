from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model, password_validation

from auth_flow.models import User
from auth_flow.services import password_reset_request, request_meta


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
        username = super().clean_username()
        # Log-in reads an identifier with an @ as an email address first.
        if username and "@" in username:
            raise forms.ValidationError(
                "Usernames can't contain @ (log in with your email address instead)."
            )
        return username

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


class ThrottledLoginMixin:
    """Say when to try again if the backend refused a log-in over its limits."""

    def get_invalid_login_error(self):
        throttle = getattr(self.request, "login_throttle", None)
        if throttle is None:
            return super().get_invalid_login_error()
        minutes = throttle.minutes
        return forms.ValidationError(
            f"{throttle.message} For your security, try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}.",
            code="throttled",
        )


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
    """Change a password, unless another request changed it since the old one was checked."""
