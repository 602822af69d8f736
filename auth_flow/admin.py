from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from auth_flow.models import UndeliverableAddress, User

admin.site.register(User, UserAdmin)


@admin.register(UndeliverableAddress)
class UndeliverableAddressAdmin(admin.ModelAdmin):
    list_display = ["email", "reason", "provider", "event_count", "last_seen"]
    list_filter = ["reason", "provider"]
    search_fields = ["email"]
    readonly_fields = [
        "email",
        "reason",
        "provider",
        "description",
        "event_count",
        "first_seen",
        "last_seen",
    ]

    def has_add_permission(self, request) -> bool:
        # Rows come from the provider's webhooks; deleting one re-enables sending.
        return False
