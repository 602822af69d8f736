"""System checks: mail that would be printed, accounts without a canonical address, bad copy."""

from dataclasses import dataclass

from django.conf import settings
from django.core import checks
from django.db import DatabaseError


@checks.register(checks.Tags.compatibility, deploy=True)
def check_email_provider(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Warn a deployment that would print its emails instead of sending them.

    Django's own mail.E001 knows only its console backend by name, not ours.
    """
    if settings.EMAIL_PROVIDER != "console":
        return []
    return [
        checks.Error(
            "EMAIL_PROVIDER is 'console': reset emails are printed, not sent.",
            hint="Set EMAIL_PROVIDER to smtp, mailgun or sendgrid (see .env.example).",
            id="auth_flow.E001",
        )
    ]


@dataclass(frozen=True)
class CanonicalGaps:
    """Accounts with an address but no canonical spelling: fillable, or held by another."""

    fillable: dict[int, str]  # account id -> canonical address
    held: list[int]  # account ids whose address another account already holds


def email_canonical_gaps() -> CanonicalGaps:
    """Find the accounts whose canonical address is missing and say which can be filled."""
    from auth_flow.models import User, email_canonicalize

    missing = (
        User.objects.filter(email_canonical__isnull=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("pk", "email")
    )
    wanted = {pk: email_canonicalize(email) for pk, email in missing}
    taken = set(
        User.objects.filter(email_canonical__in=set(wanted.values())).values_list(
            "email_canonical", flat=True
        )
    )
    fillable, held = {}, []
    for pk, canonical in wanted.items():
        if canonical in taken:
            held.append(pk)
        else:
            # Of two such accounts with one address, the older keeps it.
            fillable[pk] = canonical
            taken.add(canonical)
    return CanonicalGaps(fillable=fillable, held=held)


@checks.register(checks.Tags.models)
def check_email_canonical(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Warn about accounts that log-in, reset and sign-up cannot find by their address."""
    try:
        gaps = email_canonical_gaps()
    except DatabaseError:
        # Not migrated yet, or no database here (collectstatic on a build machine).
        return []
    if not gaps.fillable:
        return []
    count = len(gaps.fillable)
    return [
        checks.Warning(
            f"{count} account(s) have an email address but no canonical spelling of it, "
            "so log-in, password reset and sign-up cannot find them by address.",
            hint="Run `python manage.py email_canonical_fill`.",
            id="auth_flow.W001",
        )
    ]


@checks.register(checks.Tags.models)
def check_email_copy(app_configs, **kwargs) -> list[checks.CheckMessage]:
    """Warn about stored email copy that the rules now refuse (its default is sent)."""
    from auth_flow.models import EmailCopy

    try:
        refused = [
            copy
            for copy in EmailCopy.objects.all()
            if copy.kind
            and copy.kind.problems(subject=copy.subject, body=copy.body, button=copy.button)
        ]
    except DatabaseError:
        return []
    return [
        checks.Warning(
            f"The stored {copy.language_name} copy of the {copy.name!r} email breaks the "
            "copy rules, so its shipped default is sent instead.",
            hint="Open it in the admin (Email copy): the form says what to change.",
            obj=copy,
            id="auth_flow.W002",
        )
        for copy in refused
    ]
