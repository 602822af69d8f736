"""Declare every email the site sends: when, which placeholders, and its shipped copy.

Marketing edits the copy in the admin (`EmailCopy` rows); this catalogue is what the
code promises: the placeholders an email can fill in, with a sample of each for
previews and test sends, and the default copy a fresh database starts with and a
broken row falls back to. Adding an email here adds its row on the next `migrate`.
"""

from dataclasses import dataclass

from auth_flow.mail.placeholders import Placeholder, copy_problems


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

    @property
    def has_button(self) -> bool:
        return bool(self.button)

    @property
    def placeholder_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.placeholders)

    def samples(self) -> dict[str, str]:
        """Return the sample value of each placeholder."""
        return {p.name: p.sample for p in self.placeholders}

    def problems(self, *, subject: str, body: str, button: str) -> dict[str, list[str]]:
        """Map each field of a piece of copy for this email to what is wrong with it."""
        return copy_problems(
            subject=subject,
            body=body,
            button=button,
            allowed=self.placeholder_names,
            has_button=self.has_button,
        )


SITE_NAME = Placeholder("site_name", "The site's name", "Passage")
USERNAME = Placeholder("username", "The account's username", "alice")
IP = Placeholder("ip", "IP address the request came from", "203.0.113.7")
EXPIRES_IN = Placeholder("expires_in", "How long the link stays valid", "1\xa0hour")
EXPIRES_AT = Placeholder(
    "expires_at", "When the link stops working", "24 November 2026 at 19:30 UTC"
)
BROWSER = Placeholder(
    "browser",
    "Browser and system of the request, or “an unknown browser”",
    "Firefox on Linux",
)


def _when(description: str) -> Placeholder:
    return Placeholder("requested_at", description, "24 November 2026 at 18:30 UTC")


PASSWORD_RESET = EmailKind(
    name="password_reset",
    title="Password reset",
    description="Sent when someone asks to reset the password of an existing account.",
    placeholders=(
        USERNAME,
        SITE_NAME,
        EXPIRES_IN,
        EXPIRES_AT,
        _when("When the reset was requested"),
        IP,
        BROWSER,
    ),
    subject="Reset your {{ site_name }} password",
    body=(
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
    button="Choose a new password",
)

PASSWORD_CHANGED = EmailKind(
    name="password_changed",
    title="Password changed",
    description="Sent after an account's password was changed or reset.",
    placeholders=(USERNAME, SITE_NAME, _when("When the password was changed"), IP, BROWSER),
    subject="Your {{ site_name }} password was changed",
    body=(
        "Hello {{ username }},\n\n"
        "The password of your {{ site_name }} account was changed on {{ requested_at }} "
        "from IP address {{ ip }} using {{ browser }}.\n\n"
        "If this was you, there is nothing to do. Every other device logged in to your "
        "account has been logged out.\n\n"
        "If this wasn't you, reset your password right away with the button below, and "
        "check the email address on your account.\n\n"
        "[button]"
    ),
    button="Reset your password",
)

PASSWORD_RESET_UNKNOWN = EmailKind(
    name="password_reset_unknown",
    title="Reset asked for an unknown address",
    description=(
        "Sent when a reset is asked for an address with no account "
        "(only if PASSWORD_RESET_NOTIFY_UNKNOWN is on)."
    ),
    placeholders=(
        Placeholder("email", "The address the reset was asked for", "sam@example.com"),
        SITE_NAME,
        _when("When the reset was requested"),
        IP,
        BROWSER,
    ),
    subject="Password reset requested for an address without an account",
    body=(
        "Hello,\n\n"
        "Someone asked to reset the password of a {{ site_name }} account for {{ email }}, "
        "but no account uses this address.\n\n"
        "The request was made on {{ requested_at }} from IP address {{ ip }} using "
        "{{ browser }}.\n\n"
        "If you have an account with another address, ask for the reset again with that "
        "address. If this wasn't you, ignore this email."
    ),
)

EMAIL_VERIFICATION = EmailKind(
    name="email_verification",
    title="Confirm a new account's address",
    description=(
        "Sent after someone signs up with an address no account uses yet. It goes to an "
        "address nobody has confirmed, so it shows nothing the person who signed up typed."
    ),
    placeholders=(
        SITE_NAME,
        EXPIRES_IN,
        EXPIRES_AT,
        _when("When the sign-up was made"),
        IP,
        BROWSER,
    ),
    subject="Confirm your email address for {{ site_name }}",
    body=(
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
    button="Confirm my email address",
)

SIGNUP_EXISTING = EmailKind(
    name="signup_existing",
    title="Sign-up with an address that has an account",
    description=(
        "Sent to an account's owner when someone signs up with its address (the sign-up "
        "page answers as for any address, so it never tells who has an account)."
    ),
    placeholders=(USERNAME, SITE_NAME, _when("When the sign-up was tried"), IP, BROWSER),
    subject="Someone tried to sign up to {{ site_name }} with your address",
    body=(
        "Hello {{ username }},\n\n"
        "Someone tried to create a new {{ site_name }} account with this email address on "
        "{{ requested_at }} from IP address {{ ip }} using {{ browser }}. You already have "
        "an account, so nothing was created or changed.\n\n"
        "If it was you, log in with your username, {{ username }}, or with this email "
        "address. Forgot your password? Choose a new one with the button below.\n\n"
        "[button]\n\n"
        "If this wasn't you, ignore this email: your account is as it was."
    ),
    button="Reset your password",
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
