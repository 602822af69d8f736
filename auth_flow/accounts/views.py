"""The account pages: thin subclasses of Django's auth views, page or htmx partial."""

import re
from datetime import timedelta
from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timesince, timezone
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import FormView, TemplateView

from auth_flow.accounts.backends import login_failures_clear
from auth_flow.accounts.forms import (
    NEW_PASSWORD_FIELDS,
    USERNAME_TAKEN_SINCE,
    LoginForm,
    PasswordChangedElsewhere,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
    SignupConfirmForm,
    SignupForm,
)
from auth_flow.accounts.rules import password_rules_unmet
from auth_flow.accounts.services import (
    SignupLinkUsed,
    UsernameTaken,
    account_signup,
    password_change_notify,
    request_meta,
    signup_confirm,
)
from auth_flow.accounts.tokens import signup_confirm_token
from auth_flow.htmx import HtmxPartialMixin
from auth_flow.mail.emails import password_reset_expiry, signup_expiry
from auth_flow.models import PendingSignup, User
from auth_flow.protection.mixins import RateLimitMixin
from auth_flow.protection.ratelimit import Rate, client_ip_key, rate_limit_over

UIDB64 = re.compile(r"[0-9A-Za-z_-]{1,64}")


def token_cookie_path(*, url_name: str, uidb64: str) -> str | None:
    """Return the path a link's token cookie is scoped to, or None for a junk uid.

    Built with reverse() from a uid of base64 characters only, never from the request's
    path: a decoded path can hold ";", NUL or CR/LF, which would write attributes of
    the attacker's choosing into Set-Cookie (or fail the response).
    """
    if not UIDB64.fullmatch(uidb64):
        return None
    return reverse(url_name, kwargs={"uidb64": uidb64, "token": "-"}).removesuffix("-/")


class HomeView(HtmxPartialMixin, TemplateView):
    template_name = "home.html"
    extra_context = {"title": _("Your account")}


class EmailLinkSampleView(HtmxPartialMixin, TemplateView):
    """Stand where a test email's button leads: a test never carries a real link."""

    template_name = "email_link_sample.html"
    extra_context = {"title": _("Where the email's button leads")}


class SignupView(RateLimitMixin, HtmxPartialMixin, FormView):
    rate_limit_scope = "signup"
    form_class = SignupForm
    template_name = "registration/signup.html"
    success_url = reverse_lazy("signup_done")
    extra_context = {"title": _("Create an account")}

    def form_valid(self, form):
        # The same answer whether or not the address has an account; nothing reserved.
        account_signup(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            meta=request_meta(request=self.request),
        )
        return super().form_valid(form)


class SignupDoneView(HtmxPartialMixin, TemplateView):
    template_name = "registration/signup_done.html"
    extra_context = {"title": _("Check your email")}

    def get_context_data(self, **kwargs):
        return super().get_context_data(**signup_expiry(), **kwargs)


class EmailVerifyView(RateLimitMixin, HtmxPartialMixin, TemplateView):
    """Confirm a pending sign-up from its one-time link, create the account, log it in.

    Like the reset link: the token leaves the URL at once (into a signed cookie scoped
    to this sign-up's links, never the session table), the token URL sends no Referer,
    and confirming takes a POST with the password chosen at sign-up, so neither a mail
    scanner fetching the link nor someone who signed up with another person's address
    can confirm anything.
    """

    rate_limit_scope = "signup"
    template_name = "registration/email_verify.html"
    confirm_url_token = "confirm"
    token_cookie = "verify_token"
    token_cookie_salt = "auth_flow.verify_token"

    def pending_signup(self, uidb64: str) -> PendingSignup | None:
        try:
            pk = urlsafe_base64_decode(uidb64).decode()
            return PendingSignup.objects.get(pk=pk)
        except (ValueError, TypeError, OverflowError, PendingSignup.DoesNotExist, ValidationError):
            return None

    def cookie_path(self) -> str | None:
        return token_cookie_path(url_name="email_verify", uidb64=self.kwargs["uidb64"])

    def cookie_token(self) -> str | None:
        return self.request.get_signed_cookie(
            self.token_cookie, default=None, salt=self.token_cookie_salt
        )

    def page(self, *, form=None, status: int = HTTPStatus.OK):
        validlink = form is not None
        if validlink:
            title = gettext("Confirm your email address")
        else:
            title = gettext("This link can't be used")
        context = self.get_context_data(
            validlink=validlink,
            form=form,
            title=title,
            submit_label=gettext("Confirm my email address"),
        )
        return self.render_to_response(context, status=status)

    def get(self, request, uidb64: str, token: str):
        pending = self.pending_signup(uidb64)
        if token != self.confirm_url_token:
            if signup_confirm_token.check_token(pending, token):
                response = redirect("email_verify", uidb64=uidb64, token=self.confirm_url_token)
                response.set_signed_cookie(
                    self.token_cookie,
                    token,
                    salt=self.token_cookie_salt,
                    path=self.cookie_path(),  # a valid token means a valid uidb64
                    secure=settings.SESSION_COOKIE_SECURE,
                    httponly=True,
                    samesite="Lax",  # sent on the redirect after a click in a mail client
                )
            else:
                response = self.page()
            # This URL holds the token: it must never leave in a Referer.
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["Cache-Control"] = "no-store"
            return response
        if not signup_confirm_token.check_token(pending, self.cookie_token()):
            return self.page()
        return self.page(form=SignupConfirmForm(pending=pending))

    def post(self, request, uidb64: str, token: str):
        pending = self.pending_signup(uidb64)
        if token != self.confirm_url_token or not signup_confirm_token.check_token(
            pending, self.cookie_token()
        ):
            return self.spent(self.page())
        form = SignupConfirmForm(request.POST, pending=pending)
        if not form.is_valid():
            if form.throttle is None:
                return self.page(form=form)
            response = self.page(form=form, status=HTTPStatus.TOO_MANY_REQUESTS)
            response["Retry-After"] = str(form.throttle.seconds)
            return response
        try:
            user = signup_confirm(pending=pending, username=form.cleaned_data["username"])
        except UsernameTaken:
            form.add_error("username", USERNAME_TAKEN_SINCE)
            return self.page(form=form)
        except SignupLinkUsed:
            return self.spent(self.page())
        login(request, user, backend="auth_flow.accounts.backends.UsernameOrEmailBackend")
        messages.success(
            request,
            gettext("Your email address is confirmed. Welcome, %(username)s!")
            % {"username": user.get_username()},
        )
        return self.spent(redirect("home"))

    def spent(self, response):
        """Drop the link's cookie: it was used, or cannot be."""
        if path := self.cookie_path():
            response.delete_cookie(self.token_cookie, path=path)
        return response


class LoginView(HtmxPartialMixin, auth_views.LoginView):
    # Limits are the authentication backend's, so they hold on every log-in path.
    form_class = LoginForm
    redirect_authenticated_user = True
    swap_on_success = False
    # Translators: the title of the log-in page.
    extra_context = {"title": pgettext_lazy("page title", "Log in")}

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if throttle := getattr(self.request, "login_throttle", None):
            response.status_code = HTTPStatus.TOO_MANY_REQUESTS
            response["Retry-After"] = str(throttle.seconds)
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, gettext("You are logged out."))
        return response


class PasswordChangeView(RateLimitMixin, HtmxPartialMixin, auth_views.PasswordChangeView):
    rate_limit_scope = "password_change"
    form_class = PasswordChangeForm

    def form_valid(self, form):
        try:
            # Django re-hashes this session, so it stays logged in while the others end.
            response = super().form_valid(form)
        except PasswordChangedElsewhere:
            # A reset or another change won: this session's password is no longer the
            # account's, so it ends here rather than outlive the owner's reset.
            logout(self.request)
            messages.error(
                self.request,
                gettext(
                    "Your password was changed elsewhere, so you have been logged out. Log in "
                    "with the new password, or reset it if that wasn't you."
                ),
            )
            return redirect(settings.LOGIN_URL)
        password_change_notify(user_id=form.user.pk, meta=request_meta(request=self.request))
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        # Too many wrong old passwords for this account: answered as the log-in's limit.
        if throttle := form.throttle:
            response.status_code = HTTPStatus.TOO_MANY_REQUESTS
            response["Retry-After"] = str(throttle.seconds)
        return response


class PasswordChangeDoneView(HtmxPartialMixin, auth_views.PasswordChangeDoneView):
    pass


class PasswordResetView(RateLimitMixin, HtmxPartialMixin, auth_views.PasswordResetView):
    rate_limit_scope = "password_reset"
    form_class = PasswordResetForm


class PasswordResetDoneView(HtmxPartialMixin, auth_views.PasswordResetDoneView):
    def get_context_data(self, **kwargs):
        # The per-address caps' own numbers, said alike for every address: a fourth
        # request in a window is dropped by the worker, and the person should know why.
        cap = Rate.parse(settings.RATE_LIMITS["reset_email_per_address"])
        daily = Rate.parse(settings.RATE_LIMITS["reset_email_per_address_daily"])
        now = timezone.now()
        return super().get_context_data(
            **password_reset_expiry(),
            cap_count=cap.count,
            cap_window=timesince.timeuntil(now + timedelta(seconds=cap.seconds), now),
            cap_daily=daily.count,
            **kwargs,
        )


class PasswordResetConfirmView(HtmxPartialMixin, auth_views.PasswordResetConfirmView):
    """Django's view, with the token kept in a signed cookie instead of the session.

    Django moves the token from the URL into the session, and sessions live in the
    database; here it only passes through the session during the request, so no reset
    token is ever stored server-side. Django's own checks are unchanged.
    """

    form_class = SetPasswordForm
    token_cookie = "reset_token"
    token_cookie_salt = "auth_flow.reset_token"

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        # A link sent before staff turned the account off must not set its password:
        # whoever held it would know the password the account has when turned back on.
        return user if user is not None and user.is_active else None

    def dispatch(self, request, *args, **kwargs):
        on_token_url = kwargs.get("token") != self.reset_url_token
        cookie_path = token_cookie_path(url_name="password_reset_confirm", uidb64=kwargs["uidb64"])
        cookie = request.get_signed_cookie(
            self.token_cookie, default=None, salt=self.token_cookie_salt
        )
        if cookie and not on_token_url:
            request.session[INTERNAL_RESET_SESSION_TOKEN] = cookie
        response = super().dispatch(request, *args, **kwargs)
        token = request.session.pop(INTERNAL_RESET_SESSION_TOKEN, None)
        if cookie_path is None:
            pass  # not a link the site made: no cookie to set or drop
        elif on_token_url and token:
            # A session cookie: gone when the browser closes (the token's own expiry
            # still applies while it is open).
            response.set_signed_cookie(
                self.token_cookie,
                token,
                salt=self.token_cookie_salt,
                path=cookie_path,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",  # sent on the redirect after a click in a mail client
            )
        elif cookie and not (token and self.validlink):
            # Used (Django dropped it after the reset) or no longer valid.
            response.delete_cookie(self.token_cookie, path=cookie_path)
        if on_token_url:
            # This URL still holds the token: never let it leave in a Referer. (Not on
            # the set-password page: there, no-referrer makes browsers send "Origin:
            # null" with the form, which Django's CSRF check rightly refuses.)
            response.headers["Referrer-Policy"] = "no-referrer"
        return response

    def form_valid(self, form):
        try:
            response = super().form_valid(form)
        except PasswordChangedElsewhere:
            # The same link submitted twice at once, or a change racing it: the first
            # won, and this one gets the page a used link gets.
            self.validlink = False
            self.request.session.pop(INTERNAL_RESET_SESSION_TOKEN, None)
            return self.render_to_response(self.get_context_data())
        # The owner proved the address is theirs: strangers' guesses no longer lock it.
        login_failures_clear(user=form.user)
        password_change_notify(user_id=form.user.pk, meta=request_meta(request=self.request))
        return response


class PasswordRulesView(View):
    """Say which password rules the new password being typed does not meet yet.

    Asked by the new-password fields as the person types (debounced, see site.js), with
    the form's other fields for context: the username and address typed at sign-up, or
    the username the reset and change pages carry for password managers. Answers only
    which rules fail: the password is never echoed, and request bodies are never logged.
    Limited per client IP like the forms.

    It never reads the session: a check still in flight when a password change rotates
    the session key would otherwise find its old session gone, and Django would answer
    it by deleting the new session's cookie, logging the person out. (The submit checks
    everything again against the account itself.)
    """

    http_method_names = ["post"]
    template_name = "registration/password_rules.html"
    rate_limit_scope = "password_rules"

    def post(self, request):
        if rate_limit_over(scope=self.rate_limit_scope, key=client_ip_key(request=request)):
            return render(
                request,
                self.template_name,
                {"paused": True},
                status=HTTPStatus.TOO_MANY_REQUESTS,
            )
        # htmx names the field that asked; only a new password's field is read.
        field = request.headers.get("HX-Trigger-Name", "")
        password = request.POST.get(field, "") if field in NEW_PASSWORD_FIELDS else ""
        password = password[: settings.PASSWORD_MAX_LENGTH + 1]
        # An unsaved account: what the rules compare with; nothing is looked up.
        user = User(
            username=request.POST.get("username", "")[:150],
            email=request.POST.get("email", "")[:254],
        )
        context = {
            "checked": bool(password),
            "unmet": password_rules_unmet(password=password, user=user) if password else [],
            "breach_check": settings.PWNED_PASSWORDS_CHECK,
        }
        return render(request, self.template_name, context)


class PasswordResetCompleteView(HtmxPartialMixin, auth_views.PasswordResetCompleteView):
    pass
