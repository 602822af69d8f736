"""The app's configuration: connect the webhook signal, the checks and the copy rows."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def email_copy_defaults_ensure(*, using: str = "default", **kwargs) -> None:
    """Give each email declared in code a copy row per language, and marketing its group.

    A new row holds the shipped words of its language (so its history starts with
    them), or the default language's where there is no translation yet. Rows nobody
    edited follow the shipped words as the translations change.
    """
    from django.conf import settings

    from auth_flow.mail.catalog import EMAIL_KINDS
    from auth_flow.mail.marketing import marketing_group_ensure
    from auth_flow.models import EmailCopy

    # Also after a test database is flushed, which emits post_migrate again.
    marketing_group_ensure(using=using)
    rows = EmailCopy.objects.using(using)
    for kind in EMAIL_KINDS.values():
        for language, _name in settings.LANGUAGES:
            shipped = kind.shipped(language=language) or kind.shipped_default()
            words = shipped.words
            copy, created = rows.get_or_create(name=kind.name, language=language, defaults=words)
            if not created and not copy.edited:
                rows.filter(pk=copy.pk).exclude(**words).update(**words)
    copy_first_versions_ensure(using=using)


def copy_first_versions_ensure(*, using: str) -> None:
    """Make the shipped default version 1 of each row that has no such version yet.

    Rows written by the early migrations have no history at all, and the first edit
    must be undoable from History like any other.
    """
    from datetime import timedelta

    from django.db.models import Min
    from django.utils import timezone

    from auth_flow.models import CopyPublication, EmailCopy

    versions = EmailCopy.history.model.objects.using(using)
    shipped = CopyPublication.Kind.SHIPPED
    have = set(versions.filter(publish_kind=shipped).values_list("id", flat=True))
    missing = EmailCopy.objects.using(using).exclude(pk__in=have)
    firsts = dict(
        versions.filter(id__in=missing.values("pk"))
        .values("id")
        .annotate(first=Min("history_date"))
        .values_list("id", "first")
    )
    new = []
    for copy in missing:
        kind = copy.kind
        if kind is None:
            continue
        words = kind.shipped(language=copy.language) or kind.shipped_default()
        earliest = firsts.get(copy.pk)
        new.append(
            versions.model(
                id=copy.pk,
                name=copy.name,
                language=copy.language,
                subject=words.subject,
                body=words.body,
                button=words.button,
                history_type="+",
                # Before any edit the row already has: version 1 comes first.
                history_date=earliest - timedelta(seconds=1) if earliest else timezone.now(),
                publish_kind=shipped,
            )
        )
    versions.bulk_create(new)


class AuthFlowConfig(AppConfig):
    name = "auth_flow"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # anymail reports webhooks only through this signal.
        from anymail.signals import tracking

        from auth_flow import checks  # noqa: F401  (registers the system checks)
        from auth_flow.mail.webhooks import tracking_event_received

        tracking.connect(tracking_event_received, dispatch_uid="auth_flow.tracking")
        # An email added to the catalogue later gets its row without a migration of its own.
        post_migrate.connect(
            email_copy_defaults_ensure, sender=self, dispatch_uid="auth_flow.email_copies"
        )
