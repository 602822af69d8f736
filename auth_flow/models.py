"""The app's models: accounts, pending sign-ups, email copy, bounces and shared counters."""

import unicodedata
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from auth_flow.i18n import language_name
from auth_flow.mail.catalog import EMAIL_KINDS, EmailKind


def email_canonicalize(email: str) -> str:
    """Return the one spelling of an address that every look-up and limit uses.

    NFKC then casefold (Unicode TR 36, as Django compares reset addresses): `\u017fam@`
    (a long s), `SAM@` and `sam@` are one address, so none can block or multiply another.
    """
    return unicodedata.normalize("NFKC", email.strip()).casefold()


class UserQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        # bulk_create skips save() and pre_save: without this, such accounts would have
        # no canonical address and silently never get a reset link.
        objs = list(objs)
        for user in objs:
            user_canonical_fill(user=user)
        return super().bulk_create(objs, *args, **kwargs)

    def update(self, **kwargs):
        for field in ("email", "username"):
            if field in kwargs and f"{field}_canonical" not in kwargs:
                if not isinstance(kwargs[field], str):
                    raise TypeError(
                        f"Update {field}_canonical with {field} (see email_canonicalize)."
                    )
                kwargs[f"{field}_canonical"] = email_canonicalize(kwargs[field]) or None
        return super().update(**kwargs)


class AccountManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """Hold an account whose email address is unique in its canonical spelling."""

    email = models.EmailField("email address", max_length=254)
    # Kept on every save (and loaddata, bulk_create, update); unique, and what log-in,
    # reset and sign-up look addresses up by. NULL, not "", where an older account
    # already holds the address (migration 0005); `manage.py check` counts the others.
    email_canonical = models.CharField(  # noqa: DJ001
        max_length=254, unique=True, null=True, editable=False
    )
    # The same for usernames: "Alice", "alice" in fullwidth letters and "alice" are one name,
    # so nobody can register a look-alike of someone else's (or lift its log-in lock).
    username_canonical = models.CharField(  # noqa: DJ001
        max_length=150, unique=True, null=True, editable=False
    )
    # When the owner proved the address is theirs: by a sign-up link, or, for accounts
    # made by staff, createsuperuser or before sign-up confirmed addresses, at creation.
    # Not is_active, which is staff's switch alone: nothing a visitor sends turns it on.
    email_confirmed_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    # A code from LANGUAGES, empty until the person picks one from the language menu:
    # the pages and every email to this account use it (auth_flow.i18n).
    language = models.CharField(_("language"), max_length=15, blank=True, default="")
    # An IANA name the browser reported at log-in (validated against zoneinfo): the
    # emails' times are written in it; empty means UTC.
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")

    objects = AccountManager()

    REQUIRED_FIELDS = ["email"]

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def clean(self):
        super().clean()
        self.email = type(self).objects.normalize_email(self.email)

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {
                *update_fields,
                *(
                    f"{field}_canonical"
                    for field in ("email", "username")
                    if field in update_fields
                ),
            }
        super().save(*args, **kwargs)


def user_canonical_fill(*, user: User) -> None:
    """Set an account's canonical address and username from the ones it has."""
    user.email_canonical = email_canonicalize(user.email or "") or None
    user.username_canonical = email_canonicalize(user.username or "") or None


@receiver(pre_save, sender=User, dispatch_uid="auth_flow.user_canonical")
def user_canonical_before_save(sender, instance: User, **kwargs) -> None:
    # pre_save, not save(): loaddata saves raw, past save(), but still sends this.
    user_canonical_fill(user=instance)


class PendingSignup(models.Model):
    """Hold a sign-up until its address is confirmed; it is not an account.

    Nothing is written to the user table (no username, no address reserved) until the
    owner of the address opens the emailed link and gives the password chosen here, so
    nobody can plant an account on someone else's address. The first confirmed sign-up
    for an address wins and the others are deleted; rows expire after
    SIGNUP_CONFIRM_TIMEOUT and are pruned with the task results.
    """

    username = models.CharField(max_length=150)
    email = models.EmailField(max_length=254)
    email_canonical = models.CharField(max_length=254, db_index=True)
    # A hash, as in the user table; the password itself is never stored or queued.
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Pending sign-up {self.pk}"

    @property
    def expires_at(self):
        return self.created_at + timedelta(seconds=settings.SIGNUP_CONFIRM_TIMEOUT)

    @property
    def expired(self) -> bool:
        return timezone.now() >= self.expires_at


class UndeliverableAddress(models.Model):
    """Remember an address the provider reported as bouncing or complaining.

    The worker sends nothing more to it; delete the row in the admin to send again.
    """

    class Reason(models.TextChoices):
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Marked as spam")
        REJECTED = "rejected", _("Rejected by the provider")

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
    def get_by_natural_key(self, name: str, language: str) -> "EmailCopy":
        return self.get(name=name, language=language)


def _staff_member() -> models.ForeignKey:
    """Point to who did something to the copy; kept as empty if the account goes."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )


class CopyPublication(models.Model):
    """What each published version of email copy records beside its words."""

    class Kind(models.TextChoices):
        SHIPPED = "shipped", _("Shipped default")
        EDIT = "edit", _("Edit")
        REVERT = "revert", _("Revert")
        RESET = "reset", _("Reset to default")

    publish_kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.EDIT)
    publish_note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        abstract = True


class EmailCopy(models.Model):
    """Hold the words of one email (subject, body, button label) that marketing edits.

    The copy is plain text with `{{ name }}` placeholders, never a template; the email's
    layouts and its link stay in code (see `auth_flow.mail.catalog` and `emails`).
    The subject, body, button and preheader are the published words, the only ones a
    live email uses; the draft fields hold what an editor saved and nobody published yet.
    """

    name = models.CharField(max_length=100, editable=False)
    # One row per email and language in LANGUAGES, each with its own history.
    language = models.CharField(max_length=15, editable=False)
    # False while the row holds the shipped default: then the email goes out in the
    # shipped words of its language (kept current by the translations), or, for a
    # language without them, in the default language's copy. True once saved in the admin.
    edited = models.BooleanField(default=False, editable=False)
    # Wider than the 150 characters the validator allows, so the person sees its message
    # (which says how long the text is) rather than the browser silently cutting it.
    subject = models.CharField(_("subject"), max_length=500)
    body = models.TextField(_("body"))
    button = models.CharField(_("button label"), max_length=500, blank=True)
    # The inbox's preview text after the subject; hidden in the email itself.
    preheader = models.CharField(_("preview text"), max_length=500, blank=True)
    changed_at = models.DateTimeField(_("last changed"), auto_now=True)
    # Bumped by every save of a draft, publish and discard; an edit based on an older
    # version is refused, not lost over someone else's (see EmailCopyAdmin.save_model).
    version = models.PositiveIntegerField(default=1, editable=False)

    has_draft = models.BooleanField(default=False, editable=False)
    draft_subject = models.CharField(max_length=500, blank=True, editable=False)
    draft_body = models.TextField(blank=True, editable=False)
    draft_button = models.CharField(max_length=500, blank=True, editable=False)
    draft_preheader = models.CharField(max_length=500, blank=True, editable=False)
    # What publishing the draft will record: an edit, or a revert or reset not yet changed.
    draft_kind = models.CharField(
        max_length=10,
        choices=CopyPublication.Kind,
        default=CopyPublication.Kind.EDIT,
        editable=False,
    )
    draft_note = models.CharField(max_length=200, blank=True, editable=False)
    draft_by = _staff_member()
    draft_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the worker publishes the draft, and on whose authority; any change of the
    # draft (a save, a discard, a publish) clears it (see auth_flow.mail.publishing).
    publish_at = models.DateTimeField(null=True, blank=True, editable=False)
    publish_at_by = _staff_member()

    # Only publishing records a version: drafts are work in progress, not history.
    history = HistoricalRecords(
        bases=[CopyPublication],
        excluded_fields=[
            "changed_at",
            "version",
            "edited",
            "has_draft",
            "draft_subject",
            "draft_body",
            "draft_button",
            "draft_preheader",
            "draft_kind",
            "draft_note",
            "draft_by",
            "draft_at",
            "publish_at",
            "publish_at_by",
        ],
    )
    objects = EmailCopyManager()

    class Meta:
        ordering = ["name", "language"]
        verbose_name = _("email")
        verbose_name_plural = _("emails")
        constraints = [
            models.UniqueConstraint(fields=["name", "language"], name="email_copy_per_language")
        ]
        permissions = [("publish_emailcopy", _("Can publish email copy"))]

    def __str__(self) -> str:
        kind = self.kind
        title = str(kind.title) if kind else self.name
        return f"{title} ({self.language_name})"

    def natural_key(self) -> tuple[str, str]:
        return (self.name, self.language)

    @property
    def language_name(self) -> str:
        """Name the copy's language in the reader's language ("German", "Allemand")."""
        return language_name(self.language)

    @property
    def kind(self) -> EmailKind | None:
        return EMAIL_KINDS.get(self.name)

    @property
    def words(self) -> dict[str, str]:
        """Return the published words, by field."""
        return {field: getattr(self, field) for field in COPY_FIELDS}

    @property
    def draft_words(self) -> dict[str, str]:
        """Return the draft's words, by field (the published ones if there is no draft)."""
        if not self.has_draft:
            return self.words
        return {field: getattr(self, f"draft_{field}") for field in COPY_FIELDS}

    def clean(self) -> None:
        super().clean()
        kind = self.kind
        if kind is None:
            raise ValidationError(f"No email called {self.name!r} is declared in the code.")
        problems = kind.problems(
            subject=self.subject, body=self.body, button=self.button, preheader=self.preheader
        )
        if problems:
            raise ValidationError(problems)


# The words of a piece of copy, published or draft.
COPY_FIELDS = ("subject", "body", "button", "preheader")


@receiver(pre_create_historical_record, dispatch_uid="auth_flow.copy_publication")
def copy_publication_record(*, instance, history_instance, **kwargs) -> None:
    """Record a version's kind and note, as the publishing code set them on the row."""
    if not isinstance(instance, EmailCopy):
        return
    created = history_instance.history_type == "+"
    default = CopyPublication.Kind.SHIPPED if created else CopyPublication.Kind.EDIT
    history_instance.publish_kind = getattr(instance, "_publish_kind", default)
    history_instance.publish_note = getattr(instance, "_publish_note", "")


class SentEmail(models.Model):
    """Count one email handed to the provider: which, in what language, when; no address.

    The overview's sends and bounces come from these rows; a bounce reported by the
    provider's webhook is matched by its message id.
    """

    name = models.CharField(max_length=100)
    language = models.CharField(max_length=15)
    sent_at = models.DateTimeField(default=timezone.now, db_index=True)
    message_id = models.CharField(max_length=255, blank=True, db_index=True)
    bounced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["name", "sent_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.language}) {self.sent_at:%Y-%m-%d %H:%M}"


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
