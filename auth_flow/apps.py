"""The app's configuration: connect the webhook signal, the checks and the copy rows."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def email_copy_defaults_ensure(*, using: str = "default", **kwargs) -> None:
    """Give each email declared in code a copy row, and marketing its group."""
    from auth_flow.mail.catalog import EMAIL_KINDS
    from auth_flow.mail.marketing import marketing_group_ensure
    from auth_flow.models import EmailCopy

    # Also after a test database is flushed, which emits post_migrate again.
    marketing_group_ensure(using=using)
    for kind in EMAIL_KINDS.values():
        EmailCopy.objects.using(using).get_or_create(
            name=kind.name,
            defaults={"subject": kind.subject, "body": kind.body, "button": kind.button},
        )


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
