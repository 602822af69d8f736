"""Provider tracking events (anymail webhooks): remember addresses that cannot receive mail."""

import logging

from anymail.signals import AnymailTrackingEvent
from django.db.models import F

from auth_flow.models import UndeliverableAddress

logger = logging.getLogger(__name__)

UNDELIVERABLE = {choice.value for choice in UndeliverableAddress.Reason}


def address_mark_undeliverable(
    *, email: str, reason: str, provider: str, description: str
) -> None:
    """Record (or count again) a bounce, complaint or rejection for an address."""
    # Django's update_or_create: save() keeps last_seen (auto_now) current, which a
    # bare queryset update() would skip.
    UndeliverableAddress.objects.update_or_create(
        email=email.strip().lower(),
        defaults={
            "reason": reason,
            "provider": provider,
            "description": description[:500],
            "event_count": F("event_count") + 1,
        },
        create_defaults={"reason": reason, "provider": provider, "description": description[:500]},
    )
    logger.warning("Marked an address as undeliverable (%s, via %s).", reason, provider)


def tracking_event_received(sender, *, event: AnymailTrackingEvent, esp_name: str, **kwargs):
    """Handle anymail's `tracking` signal; anything but a hard failure is ignored."""
    if event.event_type in UNDELIVERABLE and event.recipient:
        address_mark_undeliverable(
            email=event.recipient,
            reason=event.event_type,
            provider=esp_name,
            description=event.description or event.reject_reason or "",
        )
