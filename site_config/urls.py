from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from auth_flow.mail.webhooks import webhook_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    # Only the configured provider's tracking webhook (bounces, complaints), and only
    # once its authentication is set: /webhooks/anymail/<provider>/tracking/.
    *webhook_urlpatterns(provider=settings.EMAIL_PROVIDER),
    path("", include("auth_flow.urls")),
]

# The site's 404 page, swapped in place like any other (a followed link, a Back).
handler404 = "auth_flow.htmx.page_not_found"
