"""Render and send every email the site sends, through one pair of layouts.

The words of each email (subject, body, button label) are data: an `EmailCopy` row that
marketing edits in the admin, plain text with `{{ name }}` placeholders (see
`auth_flow.mail.placeholders`), never a template. The layouts (`templates/emails/layout.txt`,
`layout.html`) are the developers': they decide how any copy looks and are the only
place the email's action link (the button, which may carry a token) appears, so copy can
never move a token anywhere; copy may only add links of its own to the site's own hosts
(`[text](https://…)`, see placeholders). The body is written once and becomes both the
text part and the HTML part.
"""

import contextlib
import dataclasses
import logging
import smtplib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import DatabaseError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django.utils.encoding import force_bytes
from django.utils.html import escape, format_html
from django.utils.http import urlsafe_base64_encode
from django.utils.safestring import mark_safe
from django.utils.timesince import timeuntil
from django.utils.translation import gettext, pgettext

from auth_flow.accounts.tokens import signup_confirm_token
from auth_flow.i18n import LINK_PARAMETER, language_code_clean, time_zone_clean
from auth_flow.mail.catalog import EMAIL_KINDS, EmailKind, ShippedCopy
from auth_flow.mail.placeholders import BUTTON, CopyLink, links_split, text_fill
from auth_flow.models import (
    EmailCopy,
    PendingSignup,
    SentEmail,
    UndeliverableAddress,
    email_canonicalize,
)

logger = logging.getLogger(__name__)

EMAIL_NAMES = tuple(EMAIL_KINDS)
TEST_SUBJECT_PREFIX = "[Test] "
# Around each filled-in value: Unicode's first-strong isolate and its end, so a Latin
# username in Arabic copy (or the reverse) cannot reorder the words around it. They
# become <bdi> in the HTML part; the text part keeps them for right-to-left languages.
ISOLATE_START, ISOLATE_END = "\u2068", "\u2069"
RIGHT_TO_LEFT_MARK = "\u200f"
# A [text](https://…) link of the copy, as the layout's other links look: its colour,
# its dark-mode class, and underlined, so it reads as a link in any colour scheme.
LINK_STYLE = "color:#0d6efd;text-decoration:underline;"
LINK_CLASS = "email-link"

Values = Mapping[str, str] | Callable[[], Mapping[str, str]]


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    language: str = ""
    preheader: str = ""


def _html(text: str) -> str:
    # Copy and values are escaped text; only the isolates and line breaks become markup.
    html = escape(text).replace("\n", "<br>\n")
    return mark_safe(  # noqa: S308 (escaped above; only our own isolates become tags)
        html.replace(ISOLATE_START, "<bdi>").replace(ISOLATE_END, "</bdi>")
    )


def _plain(text: str, *, rtl: bool) -> str:
    if rtl:
        # A paragraph that opens with a value (a Latin name) still reads right to left.
        return RIGHT_TO_LEFT_MARK + text
    return text.replace(ISOLATE_START, "").replace(ISOLATE_END, "")


def _paragraph(*, text: str, values: Mapping[str, str], rtl: bool) -> dict[str, str]:
    """Fill one paragraph of copy, for the text part and the HTML part.

    Its [text](https://…) links (checked by copy_problems) become links in the HTML
    part and "text (address)" in the text part. They are found in the copy before it is
    filled, so no value can make one.
    """
    plain, html = [], []
    for piece in links_split(text):
        if isinstance(piece, CopyLink):
            label = text_fill(text=piece.text.strip(), values=values, isolate=True)
            # The address reads left to right, with its parentheses, in any language.
            plain.append(f"{label} {ISOLATE_START}({piece.url}){ISOLATE_END}")
            html.append(
                format_html(
                    '<a href="{}" class="{}" style="{}">{}</a>',
                    piece.url,
                    LINK_CLASS,
                    LINK_STYLE,
                    _html(label),
                )
            )
        else:
            filled = text_fill(text=piece, values=values, isolate=True)
            plain.append(filled)
            html.append(_html(filled))
    return {
        "text": _plain("".join(plain), rtl=rtl),
        "text_html": mark_safe("".join(html)),  # noqa: S308 (each piece escaped above)
    }


def copy_render(
    *,
    kind: EmailKind,
    subject: str,
    body: str,
    button: str,
    values: Mapping[str, str],
    action_url: str,
    preheader: str = "",
) -> RenderedEmail:
    """Render a piece of copy in the active language, refusing copy that does not validate."""
    problems = kind.problems(subject=subject, body=body, button=button, preheader=preheader)
    if problems:
        raise ValidationError(problems)
    language = translation.get_language() or settings.LANGUAGE_CODE
    rtl = translation.get_language_bidi()
    values = {"site_name": settings.SITE_NAME, **values}
    # Cut into paragraphs and links before filling in: a value is text, never a
    # paragraph break, a link or the button's place.
    before, _, after = body.replace("\r\n", "\n").partition(BUTTON)
    blocks = [_paragraph(text=p, values=values, rtl=rtl) for p in _paragraphs(before)]
    if kind.has_button:
        label = text_fill(text=button, values=values, isolate=True).strip()
        blocks.append({"button": _plain(label, rtl=rtl), "button_html": _html(label)})
    blocks += [_paragraph(text=p, values=values, rtl=rtl) for p in _paragraphs(after)]
    # Placeholder values may come from a request; a subject stays one line.
    subject = " ".join(text_fill(text=subject, values=values).split())
    preheader = " ".join(text_fill(text=preheader, values=values).split())
    layout = {
        "subject": (RIGHT_TO_LEFT_MARK + subject) if rtl else subject,
        "preheader": preheader,
        "blocks": blocks,
        "action_url": action_url,
        "site_url": link_in_language(url=settings.SITE_URL + "/", language=language),
        "site_url_shown": settings.SITE_URL,
        "site_name": settings.SITE_NAME,
        "language": language,
        "direction": "rtl" if rtl else "ltr",
        "start": "right" if rtl else "left",
        "rtl_mark": RIGHT_TO_LEFT_MARK if rtl else "",
    }
    return RenderedEmail(
        subject=layout["subject"],
        text=render_to_string("emails/layout.txt", layout),
        html=render_to_string("emails/layout.html", layout),
        language=language,
        preheader=preheader,
    )


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def link_in_language(*, url: str, language: str) -> str:
    """Make a link to this site open its page in a language (see auth_flow.i18n)."""
    if not url.startswith(settings.SITE_URL + "/"):
        return url  # a frontend's link: its own business
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query), (LINK_PARAMETER, language)])
    return urlunsplit(parts._replace(query=query))


def copy_candidates(*, kind: EmailKind, language: str) -> list[tuple[object, str]]:
    """List the copy an email may use in a language, best first, each with its language.

    The language's own copy (saved by marketing), its shipped default, then the default
    language's own copy and shipped default: a language added later without
    translations gets the default language's words, and its layout and values follow.
    """
    rows = {
        row.language: row
        for row in EmailCopy.objects.filter(
            name=kind.name, language__in={language, settings.LANGUAGE_CODE}, edited=True
        )
    }
    candidates = []
    for code in dict.fromkeys([language, settings.LANGUAGE_CODE]):
        if code in rows:
            candidates.append((rows[code], code))
        if shipped := kind.shipped(language=code):
            candidates.append((shipped, code))
    shipped = kind.shipped_default()
    candidates.append((shipped, shipped.language))
    return candidates


def email_render(
    *, name: str, values: Values, action_url: str = "", language: str = ""
) -> RenderedEmail:
    """Render one email in a language, from the best copy that renders (see copy_candidates)."""
    kind = EMAIL_KINDS[name]
    language = language_code_clean(language) or settings.LANGUAGE_CODE
    candidates = copy_candidates(kind=kind, language=language)
    for position, (copy, code) in enumerate(candidates):
        try:
            with translation.override(code):
                filled = values() if callable(values) else values
                return copy_render(
                    kind=kind,
                    subject=copy.subject,
                    body=copy.body,
                    button=copy.button,
                    preheader=getattr(copy, "preheader", ""),  # shipped copy has none
                    values=filled,
                    action_url=link_in_language(url=action_url, language=code),
                )
        except Exception as error:
            if position == len(candidates) - 1:
                raise
            # A live email never breaks: a row written by hand or a bug in the copy
            # path must not cost a person their reset link. Only the class is logged.
            following, following_code = candidates[position + 1]
            logger.error(
                "The %s copy of the %s email could not be rendered (%s); "
                "sending the %s %s instead.",
                code,
                name,
                type(error).__name__,
                following_code,
                "shipped default" if isinstance(following, ShippedCopy) else "edited copy",
            )
    raise AssertionError("unreachable: the last candidate raises")


def rendered_send(*, rendered: RenderedEmail, to: str, name: str) -> None:
    """Hand a rendered email to the configured mailer, unless the address bounces."""
    if UndeliverableAddress.objects.filter(email__iexact=to).exists():
        # Sending again to a bouncing address only hurts the domain's reputation.
        logger.info("Not sending %s: the address is marked undeliverable.", name)
        return
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach_alternative(rendered.html, "text/html")
    message_deliver(message=message)
    if name in EMAIL_KINDS:
        # Counted for marketing's overview: which email, its language, and the provider's
        # id to match a bounce to; never the address.
        message_id = getattr(getattr(message, "anymail_status", None), "message_id", "")
        try:
            with transaction.atomic():  # a savepoint, should a caller hold a transaction
                SentEmail.objects.create(
                    name=name,
                    language=rendered.language,
                    message_id=message_id if isinstance(message_id, str) else "",
                )
        except DatabaseError as error:
            # The email went: a count that failed must not make the task retry (a second
            # email) or fail for the next recipient.
            logger.error("Could not count a sent %s email (%s).", name, type(error).__name__)


# One open connection to the provider per thread (the worker's sending threads each keep
# theirs): an SMTP handshake, or anymail's HTTP session, once rather than per message.
_provider = threading.local()
# A connection the provider closed while it idled fails like this; try once more, fresh.
STALE_CONNECTION_ERRORS = (smtplib.SMTPServerDisconnected, ConnectionResetError, BrokenPipeError)


def _thread_mailer():
    """Return this thread's open mailer, and whether it was used before."""
    config = mailers.settings.get("default")
    mailer = getattr(_provider, "mailer", None)
    if mailer is not None and _provider.config is config:
        return mailer, True
    mailer = mailers.default
    mailer.open()
    _provider.mailer, _provider.config = mailer, config
    return mailer, False


def _thread_mailer_drop() -> None:
    mailer, _provider.mailer = getattr(_provider, "mailer", None), None
    if mailer is not None:
        with contextlib.suppress(Exception):
            mailer.close()


def message_deliver(*, message: EmailMultiAlternatives) -> None:
    """Send a message over this thread's provider connection, opening one when needed."""
    mailer, reused = _thread_mailer()
    try:
        mailer.send_messages([message])
        return
    except Exception as error:
        _thread_mailer_drop()  # never reuse a connection that failed
        if not (reused and isinstance(error, STALE_CONNECTION_ERRORS)):
            raise
    mailer, _ = _thread_mailer()
    try:
        mailer.send_messages([message])
    except Exception:
        _thread_mailer_drop()
        raise


def email_send(
    *, name: str, to: str, values: Values, action_url: str = "", language: str = ""
) -> None:
    """Render one email in the recipient's language and hand it to the configured mailer."""
    rendered = email_render(name=name, values=values, action_url=action_url, language=language)
    rendered_send(rendered=rendered, to=to, name=name)


def copy_test_send(
    *,
    name: str,
    subject: str,
    body: str,
    button: str,
    to: str,
    language: str = "",
    preheader: str = "",
) -> None:
    """Send unsaved copy to a staff member, with sample values and a harmless link."""
    kind = EMAIL_KINDS[name]
    with translation.override(language_code_clean(language) or settings.LANGUAGE_CODE):
        rendered = copy_render(
            kind=kind,
            subject=subject,
            body=body,
            button=button,
            preheader=preheader,
            values=kind.samples(),
            # A page that says so: a test never carries a real token, whoever it goes to.
            action_url=settings.SITE_URL + reverse("email_link_sample"),
        )
    rendered = dataclasses.replace(rendered, subject=TEST_SUBJECT_PREFIX + rendered.subject)
    rendered_send(rendered=rendered, to=to, name=f"test of {name}")


def datetime_show(value: datetime, *, zone: str) -> str:
    """Write a moment the way the emails show it, in the active language and a time zone.

    `zone` is an IANA name, or "" for UTC; the email always says which zone it uses.
    """
    zone = time_zone_clean(zone)
    moment = timezone.localtime(value, ZoneInfo(zone) if zone else UTC)
    # Translators: the date and time in emails, in Django's date format syntax
    # (https://docs.djangoproject.com/en/stable/ref/templates/builtins/#date); letters
    # meant as text are escaped with a backslash. The time zone's name follows it.
    written = date_format(moment, pgettext("date and time in emails", r"j F Y \a\t H:i"))
    return f"{written} {zone or 'UTC'}"


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
    """Name the browser and system in a User-Agent the way a person would.

    Only names from the lists above: the header is the client's to write, and a raw one
    ("…using our security team. URGENT: verify at https://evil…") must never reach a
    genuine email.
    """
    browser = next((name for mark, name in BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in SYSTEMS if mark in user_agent), None)
    if browser and system:
        # Translators: a browser and the system it runs on, such as "Firefox on Linux".
        return gettext("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    if browser:
        return browser
    if system:
        return gettext("a browser on %(system)s") % {"system": system}
    return gettext("an unknown browser")


def request_context(*, meta: dict[str, Any], zone: str = "") -> dict[str, Any]:
    """Turn stored request metadata into what the copy shows a person, in the active language."""
    try:
        requested_at = datetime.fromisoformat(meta.get("requested_at", ""))
    except (TypeError, ValueError):
        requested_at = timezone.now()
    return {
        "requested_at": datetime_show(requested_at, zone=zone),
        "ip": meta.get("ip") or gettext("unknown"),
        "browser": user_agent_describe(user_agent=meta.get("user_agent", "")),
    }


def link_expiry(
    *, expires_at: datetime, zone: str = "", now: datetime | None = None
) -> dict[str, str]:
    """Say how long a link stays valid, and until when, in the active language."""
    return {
        "expires_in": timeuntil(expires_at, now or timezone.now()),
        # One way of writing a moment in every email (as requested_at is written).
        "expires_at": datetime_show(expires_at, zone=zone),
    }


def password_reset_expiry(*, zone: str = "") -> dict[str, str]:
    """Say how long a reset link made now stays valid, and until when."""
    now = timezone.now()
    return link_expiry(
        expires_at=now + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT), zone=zone, now=now
    )


def signup_expiry(*, zone: str = "") -> dict[str, str]:
    """Say how long a sign-up link made now stays valid, and until when."""
    now = timezone.now()
    return link_expiry(
        expires_at=now + timedelta(seconds=settings.SIGNUP_CONFIRM_TIMEOUT), zone=zone, now=now
    )


def recipient_language(*, meta: dict[str, Any], user=None) -> str:
    """Choose an email's language: the account's saved one, the request's, or the default."""
    return (
        language_code_clean(getattr(user, "language", ""))
        or language_code_clean(meta.get("language"))
        or settings.LANGUAGE_CODE
    )


def recipient_zone(*, meta: dict[str, Any], user=None) -> str:
    """Choose an email's time zone: the request's, the account's, or "" for UTC."""
    return time_zone_clean(meta.get("time_zone")) or time_zone_clean(
        getattr(user, "time_zone", "")
    )


class _ResetMailer(auth_forms.PasswordResetForm):
    """Use Django's reset form to find accounts and make tokens; send through email_send."""

    def get_users(self, email):
        # By canonical address: one query that means the same on SQLite and PostgreSQL.
        users = get_user_model()._default_manager.filter(
            email_canonical=email_canonicalize(email), is_active=True
        )
        return (user for user in users if user.has_usable_password())

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        user, meta = context["user"], self.meta
        zone = recipient_zone(meta=meta, user=user)
        email_send(
            name="password_reset",
            to=to_email,
            language=recipient_language(meta=meta, user=user),
            values=lambda: {
                "username": user.get_username(),
                **password_reset_expiry(zone=zone),
                **request_context(meta=meta, zone=zone),
            },
            action_url=password_reset_link(uid=context["uid"], token=context["token"]),
        )


def password_reset_link(*, uid: str, token: str) -> str:
    """Return the reset link: the site's own page, or the frontend's template filled in.

    Built from settings alone (SITE_URL or PASSWORD_RESET_CONFIRM_URL), never from a
    request's Host. The API takes the key as "<uid>.<token>" ({key}).
    """
    if template := settings.PASSWORD_RESET_CONFIRM_URL:
        return template.format(key=f"{uid}.{token}", uid=uid, token=token)
    return settings.SITE_URL + reverse(
        "password_reset_confirm", kwargs={"uidb64": uid, "token": token}
    )


def password_reset_emails_send(*, email: str, meta: dict[str, Any]) -> None:
    """Email a reset link to each active account with this address."""
    mailer = _ResetMailer(data={"email": email})
    if not mailer.is_valid():
        logger.warning("Password reset skipped: the queued address is not valid.")
        return
    email = mailer.cleaned_data["email"]
    mailer.meta = meta
    # One look-up: Django's save() asks get_users() again, and gets these.
    users = list(mailer.get_users(email))
    if not users:
        if settings.PASSWORD_RESET_NOTIFY_UNKNOWN:
            zone = recipient_zone(meta=meta)
            email_send(
                name="password_reset_unknown",
                to=email,
                language=recipient_language(meta=meta),
                values=lambda: {"email": email, **request_context(meta=meta, zone=zone)},
            )
        return
    mailer.get_users = lambda email: iter(users)
    mailer.save(
        domain_override=urlsplit(settings.SITE_URL).netloc,
        use_https=settings.SITE_URL.startswith("https://"),
    )


def password_changed_email_send(*, user_id: int, meta: dict[str, Any]) -> None:
    """Tell an account's owner that its password changed, and how to undo it."""
    user = get_user_model()._default_manager.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email:
        return
    zone = recipient_zone(meta=meta, user=user)
    email_send(
        name="password_changed",
        to=user.email,
        language=recipient_language(meta=meta, user=user),
        values=lambda: {
            "username": user.get_username(),
            **request_context(meta=meta, zone=zone),
        },
        action_url=settings.SITE_URL + reverse("password_reset"),
    )


def signup_email_send(*, pending_id: int, meta: dict[str, Any]) -> None:
    """Email a sign-up's address its confirmation link, or tell the address's owner.

    Neither email carries anything the person who signed up chose (not the username):
    the address may not be theirs, and mail clients turn domain-like text into links.
    """
    pending = PendingSignup.objects.filter(pk=pending_id).first()
    if pending is None or pending.expired:
        return  # confirmed, voided by another confirmation, or expired meanwhile
    owner = (
        get_user_model()._default_manager.filter(email_canonical=pending.email_canonical).first()
    )
    if owner is None:
        email_verification_send(pending=pending, meta=meta)
        return
    if owner.is_active:
        zone = recipient_zone(meta=meta, user=owner)
        email_send(
            name="signup_existing",
            to=owner.email,
            language=recipient_language(meta=meta, user=owner),
            values=lambda: {
                "username": owner.get_username(),
                **request_context(meta=meta, zone=zone),
            },
            action_url=settings.SITE_URL + reverse("password_reset"),
        )
    # A deactivated account hears nothing: staff turned it off, and a sign-up must not
    # offer it a way back. Either way there is nothing to confirm (deleted after the
    # send, so a retry still finds the row).
    pending.delete()


def email_verification_send(*, pending: PendingSignup, meta: dict[str, Any]) -> None:
    """Email a pending sign-up the one-time link that confirms its address."""
    path = reverse(
        "email_verify",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(pending.pk)),
            "token": signup_confirm_token.make_token(pending),
        },
    )
    zone = recipient_zone(meta=meta)
    email_send(
        name="email_verification",
        to=pending.email,
        language=recipient_language(meta=meta),
        values=lambda: {
            **link_expiry(expires_at=pending.expires_at, zone=zone),
            **request_context(meta=meta, zone=zone),
        },
        action_url=settings.SITE_URL + path,
    )
