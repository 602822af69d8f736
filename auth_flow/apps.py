from django.apps import AppConfig


class AuthFlowConfig(AppConfig):
    name = "auth_flow"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # anymail reports webhooks only through this signal.
        from anymail.signals import tracking

        from auth_flow import checks  # noqa: F401  (registers the deploy check)
        from auth_flow.webhooks import tracking_event_received

        tracking.connect(tracking_event_received, dispatch_uid="auth_flow.tracking")
