from django import forms
from django.contrib.auth import forms as auth_forms

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

    def clean_email(self) -> str:
        return User.objects.normalize_email(self.cleaned_data["email"])


class LoginForm(auth_forms.AuthenticationForm):
    """Log in with a username or an email address."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.label = "Username or email"
        # Room for a full email address; the backend decides which one it was.
        username.max_length = 254
        username.widget.attrs["maxlength"] = 254


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
