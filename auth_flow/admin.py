"""Register the admin of each concern (importing the modules registers their models)."""

from django.conf import settings
from django.contrib import admin
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from auth_flow.accounts import admin as accounts_admin  # noqa: F401
from auth_flow.mail import admin as mail_admin  # noqa: F401

# The site's own name, in the reader's language, instead of "Django administration".
admin.site.site_header = format_lazy(_("{site} administration"), site=settings.SITE_NAME)
admin.site.site_title = format_lazy(_("{site} administration"), site=settings.SITE_NAME)
admin.site.index_title = _("What you can manage")
