"""Render and send every email the site sends, through one pair of layouts.

The copy of each email (subject, body, button label) lives in its own small templates,
`templates/emails/<name>_subject.txt`, `<name>_body.txt` and `<name>_button.txt`; the
layouts (`layout.txt`, `layout.html`) decide how any copy looks. The body is written
once as plain text and becomes both the text part and the HTML part.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timeuntil

from auth_flow.models import UndeliverableAddress

logger = logging.getLogger(__name__)

EMAIL_NAMES = ("password_reset", "password_reset_unknown", "password_changed")


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def email_render(*, name: str, context: dict[str, Any]) -> RenderedEmail:
    """Render one email's copy into its subject, text part and HTML part."""
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    body = render_to_string(f"emails/{name}_body.txt", context).strip()
    button = " ".join(render_to_string(f"emails/{name}_button.txt", context).split())
    layout = {
        **context,
        "subject": subject,
        "paragraphs": [p.strip() for p in body.split("\n\n") if p.strip()],
        "button": button,
    }
    return RenderedEmail(
        subject=subject,
        text=render_to_string("emails/layout.txt", layout),
        html=render_to_string("emails/layout.html", layout),
    )


def email_send(*, name: str, to: str, context: dict[str, Any]) -> None:
    """Render one email and hand it to the configured mailer."""
    if UndeliverableAddress.objects.filter(email__iexact=to).exists():
        # Sending again to a bouncing address only hurts the domain's reputation.
        logger.info("Not sending %s: the address is marked undeliverable.", name)
        return
    rendered = email_render(name=name, context=context)
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach_alternative(rendered.html, "text/html")
    message.send()


BROWSERS = [
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
]
SYSTEMS = [
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
]


def user_agent_describe(*, user_agent: str) -> str:
    """Name the browser and system in a User-Agent the way a person would."""
    browser = next((name for mark, name in BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in SYSTEMS if mark in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or (user_agent[:100] or "an unknown browser")


def request_context(*, meta: dict[str, Any]) -> dict[str, Any]:
    """Turn stored request metadata into what the copy shows a person."""
    try:
        requested_at = datetime.fromisoformat(meta.get("requested_at", ""))
    except ValueError:
        requested_at = timezone.now()
    return {
        "requested_at": requested_at,
        "ip": meta.get("ip") or "unknown",
        "browser": user_agent_describe(user_agent=meta.get("user_agent", "")),
    }


def password_reset_expiry() -> dict[str, Any]:
    """Say how long a reset link made now stays valid, and until when."""
    now = timezone.now()
    expires_at = now + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    return {"expires_in": timeuntil(expires_at, now), "expires_at": expires_at}


class _ResetMailer(auth_forms.PasswordResetForm):
    """Use Django's reset form to find accounts and make tokens; send through email_send."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        path = reverse(
            "password_reset_confirm",
            kwargs={"uidb64": context["uid"], "token": context["token"]},
        )
        email_send(
            name="password_reset",
            to=to_email,
            context={
                "user": context["user"],
                "action_url": settings.SITE_URL + path,
                **password_reset_expiry(),
                **self.extra_context,
            },
        )


def password_reset_emails_send(*, email: str, meta: dict[str, Any]) -> None:
    """Email a reset link to each active account with this address."""
    mailer = _ResetMailer(data={"email": email})
    if not mailer.is_valid():
        logger.warning("Password reset skipped: the queued address is not valid.")
        return
    email = mailer.cleaned_data["email"]
    mailer.extra_context = request_context(meta=meta)
    if not any(True for _ in mailer.get_users(email)):
        if settings.PASSWORD_RESET_NOTIFY_UNKNOWN:
            email_send(
                name="password_reset_unknown",
                to=email,
                context={"email": email, **mailer.extra_context},
            )
        return
    mailer.save(
        domain_override=urlsplit(settings.SITE_URL).netloc,
        use_https=settings.SITE_URL.startswith("https://"),
    )


def password_changed_email_send(*, user_id: int, meta: dict[str, Any]) -> None:
    """Tell an account's owner that its password changed, and how to undo it."""
    user = get_user_model()._default_manager.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return
    email_send(
        name="password_changed",
        to=user.email,
        context={
            "user": user,
            "action_url": settings.SITE_URL + reverse("password_reset"),
            **request_context(meta=meta),
        },
    )
