"""Provider tracking events (anymail webhooks): remember addresses that cannot receive mail.

Only the configured provider's tracking webhook is served, and only with its
authentication configured: anymail treats an empty secret as "no authentication", and
an unauthenticated webhook would let anyone on the internet stop the site mailing any
address.
"""

import logging
from collections.abc import Mapping

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from anymail.webhooks.mailgun import MailgunTrackingWebhookView
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView
from django.conf import settings
from django.db.models import F
from django.urls import URLPattern, path
from django.utils import timezone

from auth_flow.models import SentEmail, UndeliverableAddress

logger = logging.getLogger(__name__)

# The ANYMAIL settings each provider's webhook needs before it is served.
WEBHOOK_VIEWS = {
    "mailgun": (MailgunTrackingWebhookView, ("WEBHOOK_SECRET", "MAILGUN_WEBHOOK_SIGNING_KEY")),
    # SendGrid sends through its SMTP relay, but reports events to anymail's view.
    "sendgrid": (SendGridTrackingWebhookView, ("WEBHOOK_SECRET",)),
}
# Rejections that say something about the address itself (it is invalid, it bounced or
# complained before, it unsubscribed), not about the message or our account (content
# flagged as spam, an unverified domain), which would otherwise silence every recipient.
REJECTIONS_OF_THE_ADDRESS = {
    RejectReason.INVALID,
    RejectReason.BOUNCED,
    RejectReason.SPAM,
    RejectReason.UNSUBSCRIBED,
}
# SendGrid's own words for a recipient who complained before; anymail maps them to OTHER.
SENDGRID_SPAM_REPORTERS = {"spam reporting address", "spam reports"}


def webhook_urlpatterns(*, provider: str) -> list[URLPattern]:
    """Return the URL of the provider's tracking webhook, or none if it cannot authenticate."""
    if provider not in WEBHOOK_VIEWS:
        return []  # console and smtp report no events
    view, required = WEBHOOK_VIEWS[provider]
    configured = getattr(settings, "ANYMAIL", {})
    if not all(configured.get(name) for name in required):
        # Settings refuse this outside DEBUG; in development the webhook simply is not there.
        return []
    return [
        path(
            f"webhooks/anymail/{provider}/tracking/",
            view.as_view(),
            name=f"{provider}_tracking_webhook",
        )
    ]


def event_reason(*, event: AnymailTrackingEvent, esp_name: str) -> str | None:
    """Return why an event makes its address undeliverable, or None if it does not."""
    raw = event.esp_event if isinstance(event.esp_event, Mapping) else {}
    if event.event_type == EventType.COMPLAINED:
        return UndeliverableAddress.Reason.COMPLAINED
    if event.event_type == EventType.BOUNCED:
        if esp_name == "Mailgun" and "event-data" in raw:
            # anymail already reads severity "temporary" as deferred; insist on permanent,
            # and not for Mailgun giving up on retries ("old") or on a receiving server
            # blocking its IPs ("espblock"): neither says the mailbox is gone.
            data = raw["event-data"]
            permanent = data.get("severity") == "permanent" and data.get("reason") not in {
                "old",
                "espblock",
            }
        elif esp_name == "SendGrid":
            # type "blocked" (or a 4xx status) is a soft bounce: the next try may arrive.
            permanent = raw.get("type", "bounce") == "bounce" and not str(
                raw.get("status", "")
            ).startswith("4")
        else:
            permanent = True  # Mailgun's legacy webhook reports hard bounces only
        return UndeliverableAddress.Reason.BOUNCED if permanent else None
    if event.event_type == EventType.REJECTED:
        sendgrid_reason = str(raw.get("type", raw.get("reason", ""))).lower()
        if event.reject_reason in REJECTIONS_OF_THE_ADDRESS or (
            esp_name == "SendGrid" and sendgrid_reason in SENDGRID_SPAM_REPORTERS
        ):
            return UndeliverableAddress.Reason.REJECTED
    return None  # deferred, delivered, opened, clicked…: nothing to remember


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
    """Handle anymail's `tracking` signal; anything but a permanent failure is ignored."""
    reason = event_reason(event=event, esp_name=esp_name)
    if reason is not None and event.message_id and len(event.message_id) <= 255:
        # Counted in marketing's overview against the email it answers.
        SentEmail.objects.filter(message_id=event.message_id, bounced_at__isnull=True).update(
            bounced_at=timezone.now()
        )
    recipient = (event.recipient or "").strip()
    # Longer than the column, or not an address: a 500 would make the provider retry
    # the whole batch for ever.
    if reason is None or "@" not in recipient or len(recipient) > 254:
        return
    address_mark_undeliverable(
        email=recipient,
        reason=reason,
        provider=esp_name,
        description=event.description or event.mta_response or event.reject_reason or "",
    )
