from django.apps import AppConfig


class AuthFlowConfig(AppConfig):
    name = "auth_flow"
    verbose_name = "Accounts"
