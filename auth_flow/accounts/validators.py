"""Password rules of our own, beside Django's validators."""

from django.conf import settings
from django.core.exceptions import ValidationError

MESSAGE = "Your password can't contain the site's name, your username or your email address."


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
            raise ValidationError(MESSAGE, code="password_contains_personal_words")

    def get_help_text(self) -> str:
        return MESSAGE
