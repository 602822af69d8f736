from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # Provider tracking webhooks (bounces, complaints), e.g. /webhooks/anymail/mailgun/tracking/
    path("webhooks/anymail/", include("anymail.urls")),
    path("", include("auth_flow.urls")),
]
