"""The password rules as a person typing a new password sees them."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError


def password_rules_unmet(*, password: str, user) -> list[str]:
    """Return the message of each password rule this password does not meet yet.

    The validators the forms apply on submit (AUTH_PASSWORD_VALIDATORS), one source of
    truth, less those marked `live_check = False`: the breach check sends part of the
    password's hash to another service, so it runs once, on submit, not per keystroke.
    """
    validators = [
        validator
        for validator in password_validation.get_default_password_validators()
        if getattr(validator, "live_check", True)
    ]
    try:
        password_validation.validate_password(password, user, password_validators=validators)
    except ValidationError as error:
        return list(error.messages)
    return []
