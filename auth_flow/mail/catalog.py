"""Declare every email the site sends: when, which placeholders, and its shipped copy.

Marketing edits the copy in the admin (`EmailCopy` rows); this catalogue is what the
code promises: the placeholders an email can fill in, with a sample of each for
previews and test sends, and the default copy a fresh database starts with and a
broken row falls back to. Adding an email here adds its row on the next `migrate`.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from auth_flow.mail.placeholders import Placeholder, copy_problems

# The language the shipped copy below is written in; the catalogues translate it.
SOURCE_LANGUAGE = "en"


@dataclass(frozen=True)
class ShippedCopy:
    """The shipped words of one email in one language."""

    language: str
    subject: str
    body: str
    button: str

    @property
    def words(self) -> dict[str, str]:
        """Return the words, by field, as EmailCopy rows hold them."""
        return {"subject": self.subject, "body": self.body, "button": self.button}


@dataclass(frozen=True)
class EmailKind:
    """Describe one email: what it is for, what copy may use, and its default copy."""

    name: str
    title: str
    description: str
    placeholders: tuple[Placeholder, ...]
    subject: str
    body: str
    button: str = ""
    # The boolean setting that switches this email on, if it is not always sent.
    switch: str = ""

    @property
    def has_button(self) -> bool:
        return bool(self.button)

    @property
    def switched_on(self) -> bool:
        return not self.switch or bool(getattr(settings, self.switch))

    @property
    def placeholder_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.placeholders)

    def samples(self) -> dict[str, str]:
        """Return the sample value of each placeholder, in the active language."""
        return {p.name: p.sample_value() for p in self.placeholders}

    def shipped(self, *, language: str) -> ShippedCopy | None:
        """Return the shipped copy in a language, or None if it is not translated into it.

        The source language is always there; another counts only when every field has a
        translation, so an email never mixes two languages.
        """
        fields = (self.subject, self.body, self.button)
        if language == SOURCE_LANGUAGE:
            return ShippedCopy(language, *fields)
        with translation.override(language):
            words = [translation.gettext(field) if field else "" for field in fields]
        if any(field and word == field for field, word in zip(fields, words, strict=True)):
            return None
        return ShippedCopy(language, *words)

    def shipped_default(self) -> ShippedCopy:
        """Return the shipped copy in LANGUAGE_CODE, or in the source language."""
        return self.shipped(language=settings.LANGUAGE_CODE) or self.shipped(
            language=SOURCE_LANGUAGE
        )

    def problems(
        self, *, subject: str, body: str, button: str, preheader: str = ""
    ) -> dict[str, list[str]]:
        """Map each field of a piece of copy for this email to what is wrong with it."""
        return copy_problems(
            subject=subject,
            body=body,
            button=button,
            preheader=preheader,
            allowed=self.placeholder_names,
            has_button=self.has_button,
        )


def _sample_moment(hours: int):
    def write() -> str:
        from datetime import UTC, datetime

        from auth_flow.mail.emails import datetime_show

        return datetime_show(datetime(2026, 11, 24, 18 + hours, 30, tzinfo=UTC), zone="")

    return write


def _sample_expires_in() -> str:
    from datetime import timedelta

    from django.utils.timesince import timeuntil
    from django.utils.timezone import now

    moment = now()
    return timeuntil(moment + timedelta(hours=1), moment)


def _sample_browser() -> str:
    from auth_flow.mail.emails import user_agent_describe

    return user_agent_describe(user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/145.0")


SITE_NAME = Placeholder("site_name", _("The site's name"), lambda: settings.SITE_NAME)
USERNAME = Placeholder("username", _("The account's username"), "alice")
IP = Placeholder("ip", _("IP address the request came from"), "203.0.113.7")
EXPIRES_IN = Placeholder("expires_in", _("How long the link stays valid"), _sample_expires_in)
EXPIRES_AT = Placeholder("expires_at", _("When the link stops working"), _sample_moment(1))
BROWSER = Placeholder(
    "browser",
    _("Browser and system of the request, or “an unknown browser”"),
    _sample_browser,
)


def _when(description: str) -> Placeholder:
    return Placeholder("requested_at", description, _sample_moment(0))


PASSWORD_RESET = EmailKind(
    name="password_reset",
    title=_("Password reset"),
    description=_("Sent when someone asks to reset the password of an existing account."),
    placeholders=(
        USERNAME,
        SITE_NAME,
        EXPIRES_IN,
        EXPIRES_AT,
        _when(_("When the reset was requested")),
        IP,
        BROWSER,
    ),
    subject=gettext_noop("Reset your {{ site_name }} password"),
    body=gettext_noop(
        "Hello {{ username }},\n\n"
        "Someone asked to reset the password of your {{ site_name }} account. If it was "
        "you, use the button below to choose a new one. It works once and expires in "
        "{{ expires_in }} (at {{ expires_at }}).\n\n"
        "[button]\n\n"
        "The request was made on {{ requested_at }} from IP address {{ ip }} using "
        "{{ browser }}.\n\n"
        "If this wasn't you, ignore this email: your password stays as it is and nobody "
        "can change it without this link."
    ),
    button=gettext_noop("Choose a new password"),
)

PASSWORD_CHANGED = EmailKind(
    name="password_changed",
    title=_("Password changed"),
    description=_("Sent after an account's password was changed or reset."),
    placeholders=(USERNAME, SITE_NAME, _when(_("When the password was changed")), IP, BROWSER),
    subject=gettext_noop("Your {{ site_name }} password was changed"),
    body=gettext_noop(
        "Hello {{ username }},\n\n"
        "The password of your {{ site_name }} account was changed on {{ requested_at }} "
        "from IP address {{ ip }} using {{ browser }}.\n\n"
        "If this was you, there is nothing to do. Every other device logged in to your "
        "account has been logged out.\n\n"
        "If this wasn't you, reset your password right away with the button below, and "
        "check the email address on your account.\n\n"
        "[button]"
    ),
    button=gettext_noop("Reset your password"),
)

PASSWORD_RESET_UNKNOWN = EmailKind(
    name="password_reset_unknown",
    title=_("Reset asked for an unknown address"),
    description=_(
        "Sent when a reset is asked for an address with no account "
        "(only if PASSWORD_RESET_NOTIFY_UNKNOWN is on)."
    ),
    placeholders=(
        Placeholder("email", _("The address the reset was asked for"), "sam@example.com"),
        SITE_NAME,
        _when(_("When the reset was requested")),
        IP,
        BROWSER,
    ),
    subject=gettext_noop("Password reset requested for an address without an account"),
    body=gettext_noop(
        "Hello,\n\n"
        "Someone asked to reset the password of a {{ site_name }} account for {{ email }}, "
        "but no account uses this address.\n\n"
        "The request was made on {{ requested_at }} from IP address {{ ip }} using "
        "{{ browser }}.\n\n"
        "If you have an account with another address, ask for the reset again with that "
        "address. If this wasn't you, ignore this email."
    ),
    switch="PASSWORD_RESET_NOTIFY_UNKNOWN",
)

EMAIL_VERIFICATION = EmailKind(
    name="email_verification",
    title=_("Confirm a new account's address"),
    description=_(
        "Sent after someone signs up with an address no account uses yet. It goes to an "
        "address nobody has confirmed, so it shows nothing the person who signed up typed."
    ),
    placeholders=(
        SITE_NAME,
        EXPIRES_IN,
        EXPIRES_AT,
        _when(_("When the sign-up was made")),
        IP,
        BROWSER,
    ),
    subject=gettext_noop("Confirm your email address for {{ site_name }}"),
    body=gettext_noop(
        "Hello,\n\n"
        "Someone signed up to {{ site_name }} with this email address. If it was you, "
        "confirm the address with the button below and enter the password you chose. The "
        "link works once and expires in {{ expires_in }} (at {{ expires_at }}).\n\n"
        "[button]\n\n"
        "The sign-up was made on {{ requested_at }} from IP address {{ ip }} using "
        "{{ browser }}.\n\n"
        "If this wasn't you, ignore this email: no account is created without this link "
        "and the password chosen at sign-up."
    ),
    button=gettext_noop("Confirm my email address"),
)

SIGNUP_EXISTING = EmailKind(
    name="signup_existing",
    title=_("Sign-up with an address that has an account"),
    description=_(
        "Sent to an account's owner when someone signs up with its address (the sign-up "
        "page answers as for any address, so it never tells who has an account)."
    ),
    placeholders=(USERNAME, SITE_NAME, _when(_("When the sign-up was tried")), IP, BROWSER),
    subject=gettext_noop("Someone tried to sign up to {{ site_name }} with your address"),
    body=gettext_noop(
        "Hello {{ username }},\n\n"
        "Someone tried to create a new {{ site_name }} account with this email address on "
        "{{ requested_at }} from IP address {{ ip }} using {{ browser }}. You already have "
        "an account, so nothing was created or changed.\n\n"
        "If it was you, log in with your username, {{ username }}, or with this email "
        "address. Forgot your password? Choose a new one with the button below.\n\n"
        "[button]\n\n"
        "If this wasn't you, ignore this email: your account is as it was."
    ),
    button=gettext_noop("Reset your password"),
)

EMAIL_KINDS: dict[str, EmailKind] = {
    kind.name: kind
    for kind in (
        PASSWORD_RESET,
        PASSWORD_CHANGED,
        PASSWORD_RESET_UNKNOWN,
        EMAIL_VERIFICATION,
        SIGNUP_EXISTING,
    )
}
