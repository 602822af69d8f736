import unicodedata

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from auth_flow.email_catalog import EMAIL_KINDS, EmailKind


def email_canonicalize(email: str) -> str:
    """Return the one spelling of an address that every look-up and limit uses.

    NFKC then casefold (Unicode TR 36, as Django compares reset addresses): `\u017fam@`
    (a long s), `SAM@` and `sam@` are one address, so none can block or multiply another.
    """
    return unicodedata.normalize("NFKC", email.strip()).casefold()


class User(AbstractUser):
    """Hold an account whose email address is unique in its canonical spelling."""

    email = models.EmailField("email address", max_length=254)
    # Kept by save(); unique, and what log-in, reset and signup look addresses up by.
    # NULL, not "", where an older account already holds the address (migration 0005).
    email_canonical = models.CharField(  # noqa: DJ001
        max_length=254, unique=True, null=True, editable=False
    )

    objects = UserManager()

    REQUIRED_FIELDS = ["email"]

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def clean(self):
        super().clean()
        self.email = type(self).objects.normalize_email(self.email)

    def save(self, *args, **kwargs):
        self.email_canonical = email_canonicalize(self.email) or None
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "email" in update_fields:
            kwargs["update_fields"] = {*update_fields, "email_canonical"}
        super().save(*args, **kwargs)


class UndeliverableAddress(models.Model):
    """Remember an address the provider reported as bouncing or complaining.

    The worker sends nothing more to it; delete the row in the admin to send again.
    """

    class Reason(models.TextChoices):
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Marked as spam"
        REJECTED = "rejected", "Rejected by the provider"

    email = models.EmailField(unique=True, max_length=254)
    reason = models.CharField(max_length=20, choices=Reason)
    provider = models.CharField(max_length=40)
    description = models.CharField(max_length=500, blank=True)
    event_count = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_reason_display()})"


class EmailCopyManager(models.Manager):
    def get_by_natural_key(self, name: str) -> "EmailCopy":
        return self.get(name=name)


class EmailCopy(models.Model):
    """Hold the words of one email (subject, body, button label) that marketing edits.

    The copy is plain text with `{{ name }}` placeholders, never a template; the email's
    layouts and its link stay in code (see `auth_flow.email_catalog` and `emails`).
    """

    name = models.CharField(max_length=100, unique=True, editable=False)
    # Wider than the 150 characters the validator allows, so the person sees its message
    # (which says how long the text is) rather than the browser silently cutting it.
    subject = models.CharField(max_length=500)
    body = models.TextField()
    button = models.CharField("button label", max_length=500, blank=True)
    changed_at = models.DateTimeField("last changed", auto_now=True)
    # Bumped by every save; an edit based on an older version is refused, not lost
    # over someone else's (see EmailCopyAdmin.save_model).
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords(excluded_fields=["changed_at", "version"])
    objects = EmailCopyManager()

    class Meta:
        ordering = ["name"]
        verbose_name = "email copy"
        verbose_name_plural = "email copy"

    def __str__(self) -> str:
        kind = self.kind
        return kind.title if kind else self.name

    def natural_key(self) -> tuple[str]:
        return (self.name,)

    @property
    def kind(self) -> EmailKind | None:
        return EMAIL_KINDS.get(self.name)

    def clean(self) -> None:
        super().clean()
        kind = self.kind
        if kind is None:
            raise ValidationError(f"No email called {self.name!r} is declared in the code.")
        problems = kind.problems(subject=self.subject, body=self.body, button=self.button)
        if problems:
            raise ValidationError(problems)


class RateWindow(models.Model):
    """Count one key's events in a fixed window, shared by every process on the database.

    For limits counted outside the request path (the per-address cap in the workers):
    several worker processes on several machines must see one count, whatever the cache.
    """

    key = models.CharField(max_length=80, primary_key=True)
    count = models.PositiveIntegerField()
    # Unix seconds: compared in SQL alike on SQLite and PostgreSQL.
    ends_at = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
