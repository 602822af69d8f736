"""Password rules of our own, beside Django's validators."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_noop, ngettext

# Marked here, translated where it is said (the English stays a plain str to compare with).
MESSAGE = gettext_noop(
    "Your password can't contain the site's name, your username or your email address."
)


class MaximumLengthValidator:
    """Refuse a password longer than max_length characters (PASSWORD_MAX_LENGTH).

    NIST SP 800-63B-4 asks that at least 64 be allowed; the cap is far above that and
    only keeps one request from making the server hash megabytes.
    """

    def __init__(self, max_length: int = 4096):
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long. It must contain at most %(max_length)d character.",
                    "This password is too long. It must contain at most %(max_length)d "
                    "characters.",
                    self.max_length,
                ),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return ngettext(
            "Your password can contain up to %(max_length)d character.",
            "Your password can contain up to %(max_length)d characters.",
            self.max_length,
        ) % {"max_length": self.max_length}


class PersonalWordsValidator:
    """Refuse a password that contains the site's name, the username or the email address.

    The first words an attacker tries against an account (ASVS 6.2.11). Django's
    UserAttributeSimilarityValidator compares whole strings; this looks inside them.
    """

    min_length = 3  # shorter names ("al") would refuse half the dictionary

    def validate(self, password: str, user=None) -> None:
        words = {settings.SITE_NAME}
        if user is not None:
            email = getattr(user, "email", "") or ""
            words |= {user.get_username() or "", email, email.partition("@")[0]}
        lowered = password.casefold()
        if any(len(word) >= self.min_length and word.casefold() in lowered for word in words):
            raise ValidationError(gettext(MESSAGE), code="password_contains_personal_words")

    def get_help_text(self) -> str:
        return gettext(MESSAGE)
