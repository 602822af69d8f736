"""The app's configuration: connect the webhook signal, the checks and the copy rows."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


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
        for language, _ in settings.LANGUAGES:
            shipped = kind.shipped(language=language) or kind.shipped_default()
            words = {"subject": shipped.subject, "body": shipped.body, "button": shipped.button}
            copy, created = rows.get_or_create(name=kind.name, language=language, defaults=words)
            if not created and not copy.edited:
                rows.filter(pk=copy.pk).exclude(**words).update(**words)


class AuthFlowConfig(AppConfig):
    name = "auth_flow"
    verbose_name = "Accounts"

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
