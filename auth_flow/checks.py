from django.conf import settings
from django.core import checks


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
