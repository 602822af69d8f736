"""The site's URLs: the account pages, health and the API."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from auth_flow import health, i18n
from auth_flow.accounts import views
from auth_flow.api import views as api

api_patterns = [
    path("reset/", api.PasswordResetRequestApi.as_view(), name="api_password_reset"),
    path(
        "reset/validate_token/",
        api.PasswordResetValidateApi.as_view(),
        name="api_password_reset_validate",
    ),
    path(
        "reset/confirm/",
        api.PasswordResetConfirmApi.as_view(),
        name="api_password_reset_confirm",
    ),
    path("change/", api.PasswordChangeApi.as_view(), name="api_password_change"),
]

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("health/", health.HealthView.as_view(), name="health"),
    path("emails/sample-link/", views.EmailLinkSampleView.as_view(), name="email_link_sample"),
    path("api/auth/password/", include(api_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api_schema"), name="api_docs"),
    path("accounts/signup/", views.SignupView.as_view(), name="signup"),
    path("accounts/signup/done/", views.SignupDoneView.as_view(), name="signup_done"),
    path(
        "accounts/verify/<uidb64>/<token>/",
        views.EmailVerifyView.as_view(),
        name="email_verify",
    ),
    path(
        "accounts/password/rules/",
        i18n.browser_language_only(views.PasswordRulesView.as_view()),
        name="password_rules",
    ),
    path("accounts/language/", i18n.language_choose, name="set_language"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/password_reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password_reset/done/",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
