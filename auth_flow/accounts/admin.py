"""The accounts admin: staff manage accounts but never set a password; they send resets."""

import secrets

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from auth_flow.accounts.forms import AdminLoginForm
from auth_flow.accounts.services import password_reset_request, request_meta
from auth_flow.models import User, email_canonicalize


class CanonicalEmailMixin:
    """Refuse an address another account holds in another case or Unicode spelling."""

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        canonical = email_canonicalize(email)
        others = User.objects.filter(email_canonical=canonical).exclude(pk=self.instance.pk)
        # A form error, not the 500 the unique column would answer; staff may know who.
        if canonical and others.exists():
            raise ValidationError(
                gettext("An account with this email address already exists."), code="email_taken"
            )
        return email


class AccountCreationForm(CanonicalEmailMixin, forms.ModelForm):
    """Create an account without choosing its password: its owner does, by email."""

    class Meta:
        model = User
        fields = ("username", "email")

    def save(self, commit=True):
        user = super().save(commit=False)
        # Known to nobody; the reset email queued on save lets the owner choose theirs.
        user.set_password(secrets.token_urlsafe(32))
        if commit:
            user.save()
        return user


class AccountChangeForm(CanonicalEmailMixin, UserChangeForm):
    """Edit an account; its address stays unique in its canonical spelling."""

    class Meta(UserChangeForm.Meta):
        model = User


@admin.register(User)
class AccountAdmin(UserAdmin):
    """Manage accounts; staff never set a person's password (ASVS 6.4.6), they send a
    reset email instead."""

    form = AccountChangeForm
    add_form = AccountCreationForm
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "email")}),)
    fieldsets = ((None, {"fields": ("username",)}), *UserAdmin.fieldsets[1:])
    actions = ["password_reset_send"]

    def user_change_password(self, request, id, form_url=""):
        raise PermissionDenied("Staff cannot set passwords; send a reset email instead.")

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if not change and obj.email:
            password_reset_request(email=obj.email, meta=request_meta(request=request))

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(
            request,
            gettext("A link to choose a password was sent to %(email)s.") % {"email": obj.email},
            messages.INFO,
        )
        return super().response_add(request, obj, post_url_continue)

    @admin.action(description=_("Send a password reset email"))
    def password_reset_send(self, request: HttpRequest, queryset: QuerySet) -> None:
        meta = request_meta(request=request)
        users = queryset.exclude(email="")
        for user in users:
            password_reset_request(email=user.email, meta=meta)
        count = len(users)
        self.message_user(
            request,
            ngettext(
                # Translators: the English says "account(s)" for any count; use your
                # language's plural forms.
                "Queued a password reset email to %(count)d account(s).",
                "Queued a password reset email to %(count)d account(s).",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


# The admin's log-in goes through the backend's limits like the site's; this form says
# when to try again.
admin.site.login_form = AdminLoginForm
