"""Provider tracking webhooks: only the configured provider's, only authenticated, and
only permanent failures stop the site mailing an address."""

import base64
import hashlib
import hmac
import importlib
import json
import runpy
import time
from http import HTTPStatus

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import clear_url_caches, reverse

import site_config.urls
from auth_flow.models import UndeliverableAddress, User
from site_config.settings import anymail_config

# Each SendGrid view warns that anymail no longer supports SendGrid's API (we send
# through its SMTP relay; the event webhook is the same either way).
pytestmark = pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")

WEBHOOK_AUTH = "hook:s3cret"
SIGNING_KEY = "mailgun-signing-key"
PROVIDERS = ["mailgun", "sendgrid"]


def urls_reload() -> None:
    """Build site_config.urls again from the current settings, as at start-up."""
    importlib.reload(site_config.urls)
    clear_url_caches()


@pytest.fixture
def serve():
    """Serve the site as it starts with a provider and its webhook secrets."""
    overrides = []

    def start(*, provider: str, secret: str = WEBHOOK_AUTH, signing_key: str = SIGNING_KEY):
        override = override_settings(
            EMAIL_PROVIDER=provider,
            ANYMAIL={"WEBHOOK_SECRET": secret, "MAILGUN_WEBHOOK_SIGNING_KEY": signing_key},
        )
        override.enable()
        overrides.append(override)
        urls_reload()

    yield start
    for override in reversed(overrides):
        override.disable()
    urls_reload()


def mailgun_event(
    event: str = "failed",
    *,
    severity: str = "permanent",
    reason: str | None = "bounce",
    key: str = SIGNING_KEY,
    recipient: str = "Bouncy@Example.com",
) -> str:
    timestamp, token = str(int(time.time())), "a" * 50
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return json.dumps(
        {
            "signature": {"timestamp": timestamp, "token": token, "signature": signature},
            "event-data": {
                "event": event,
                "severity": severity,
                **({"reason": reason} if reason else {}),
                "recipient": recipient,
                "timestamp": time.time(),
                "id": "evt-1",
                "delivery-status": {"code": 550, "description": "No such mailbox"},
                "message": {"headers": {"message-id": "1@mg.example.com"}},
            },
        }
    )


def sendgrid_events(*events: dict) -> str:
    return json.dumps(
        [
            {"email": "Bouncy@Example.com", "timestamp": int(time.time()), **event}
            for event in events
        ]
    )


def post_webhook(client, provider: str, body: str, *, auth: str | None = WEBHOOK_AUTH):
    headers = {}
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return client.post(
        reverse(f"{provider}_tracking_webhook"),
        body,
        content_type="application/json",
        headers=headers,
    )


def permanent_bounce(provider: str) -> str:
    if provider == "mailgun":
        return mailgun_event()
    return sendgrid_events(
        {"event": "bounce", "type": "bounce", "status": "5.1.1", "reason": "550 No such user"}
    )


# Which webhook is served ----------------------------------------------------------


def test_the_issues_unauthenticated_bounce_silences_nobody(client, db, serve):
    serve(provider="console", secret="", signing_key="")  # the defaults it was found with

    response = client.post(
        "/webhooks/anymail/sendgrid/tracking/",
        json.dumps([{"event": "bounce", "email": "victim@example.com"}]),
        content_type="application/json",
    )

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not UndeliverableAddress.objects.exists()


@pytest.mark.parametrize("provider", ["console", "smtp"])
def test_providers_without_events_serve_no_webhook(client, db, serve, provider):
    serve(provider=provider)

    for path in (
        "/webhooks/anymail/mailgun/tracking/",
        "/webhooks/anymail/sendgrid/tracking/",
        "/webhooks/anymail/postmark/tracking/",
    ):
        response = client.post(path, permanent_bounce("sendgrid"), content_type="application/json")
        assert response.status_code == HTTPStatus.NOT_FOUND, path
    assert not UndeliverableAddress.objects.exists()


@pytest.mark.parametrize(
    ("provider", "others"),
    [
        ("mailgun", ["sendgrid/tracking/", "mailgun/inbound/", "postmark/tracking/"]),
        ("sendgrid", ["mailgun/tracking/", "sendgrid/inbound/", "mandrill/"]),
    ],
)
def test_only_the_configured_providers_tracking_webhook_is_served(
    client, db, serve, provider, others
):
    serve(provider=provider)

    assert reverse(f"{provider}_tracking_webhook") == f"/webhooks/anymail/{provider}/tracking/"
    for other in others:
        response = client.post(f"/webhooks/anymail/{other}", "[]", content_type="application/json")
        assert response.status_code == HTTPStatus.NOT_FOUND, other


@pytest.mark.parametrize(
    ("provider", "secrets"),
    [
        ("mailgun", {"secret": ""}),
        ("mailgun", {"signing_key": ""}),
        ("sendgrid", {"secret": ""}),
    ],
    ids=["mailgun-no-secret", "mailgun-no-signing-key", "sendgrid-no-secret"],
)
def test_a_webhook_without_its_authentication_is_not_served(client, db, serve, provider, secrets):
    # Only possible with DEBUG on: settings refuse to start without the secrets otherwise.
    serve(provider=provider, **secrets)

    response = client.post(
        f"/webhooks/anymail/{provider}/tracking/",
        permanent_bounce(provider),
        content_type="application/json",
    )

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not UndeliverableAddress.objects.exists()


# Start-up -------------------------------------------------------------------------


@pytest.fixture
def no_webhook_secrets(monkeypatch):
    monkeypatch.delenv("ANYMAIL_WEBHOOK_SECRET", raising=False)
    monkeypatch.delenv("MAILGUN_WEBHOOK_SIGNING_KEY", raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("provider", "present", "missing"),
    [
        ("mailgun", {}, "ANYMAIL_WEBHOOK_SECRET"),
        ("mailgun", {"ANYMAIL_WEBHOOK_SECRET": WEBHOOK_AUTH}, "MAILGUN_WEBHOOK_SIGNING_KEY"),
        ("sendgrid", {}, "ANYMAIL_WEBHOOK_SECRET"),
    ],
)
def test_a_server_without_its_webhook_secrets_does_not_start(
    no_webhook_secrets, provider, present, missing
):
    for name, value in present.items():
        no_webhook_secrets.setenv(name, value)

    with pytest.raises(ImproperlyConfigured, match=missing):
        anymail_config(provider=provider, debug=False)


def test_the_settings_module_refuses_to_load_without_the_secrets(no_webhook_secrets):
    no_webhook_secrets.setenv("DJANGO_DEBUG", "0")
    no_webhook_secrets.setenv("DJANGO_SECRET_KEY", "a-real-secret")
    no_webhook_secrets.setenv("EMAIL_PROVIDER", "sendgrid")
    no_webhook_secrets.setenv("SENDGRID_API_KEY", "SG.key")

    with pytest.raises(ImproperlyConfigured, match="ANYMAIL_WEBHOOK_SECRET"):
        runpy.run_path(str(django_settings.BASE_DIR / "site_config" / "settings.py"))


def test_the_secrets_are_optional_where_nothing_needs_them(no_webhook_secrets):
    for provider in ("console", "smtp"):
        assert anymail_config(provider=provider, debug=False)["WEBHOOK_SECRET"] == ""
    # In development the webhook is simply not served (see above).
    assert anymail_config(provider="mailgun", debug=True)["WEBHOOK_SECRET"] == ""


def test_a_secret_that_is_not_user_colon_password_is_refused(no_webhook_secrets):
    no_webhook_secrets.setenv("ANYMAIL_WEBHOOK_SECRET", "just-a-password")

    with pytest.raises(ImproperlyConfigured, match="user:password"):
        anymail_config(provider="sendgrid", debug=False)


# Authentication -------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("auth", [None, "hook:wrong", "other:s3cret"], ids=["none", "pw", "user"])
def test_a_call_without_the_right_basic_auth_is_refused(client, db, serve, provider, auth):
    serve(provider=provider)

    response = post_webhook(client, provider, permanent_bounce(provider), auth=auth)

    # anymail's own answer to a failed check (a SuspiciousOperation) is 400.
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not UndeliverableAddress.objects.exists()


def test_a_badly_signed_mailgun_call_is_refused(client, db, serve):
    serve(provider="mailgun")

    forged = post_webhook(client, "mailgun", mailgun_event(key="forged-key"))
    unsigned = post_webhook(client, "mailgun", json.dumps({"event-data": {"event": "failed"}}))

    assert forged.status_code == HTTPStatus.BAD_REQUEST
    assert unsigned.status_code == HTTPStatus.BAD_REQUEST
    assert not UndeliverableAddress.objects.exists()


# What is remembered ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "body", "reason"),
    [
        ("mailgun", mailgun_event("failed"), "bounced"),
        ("mailgun", mailgun_event("failed", reason="suppress-bounce"), "bounced"),
        ("mailgun", mailgun_event("complained", reason=None), "complained"),
        ("sendgrid", permanent_bounce("sendgrid"), "bounced"),
        ("sendgrid", sendgrid_events({"event": "spamreport"}), "complained"),
        (
            "sendgrid",
            sendgrid_events({"event": "dropped", "reason": "Bounced Address"}),
            "rejected",
        ),
        ("sendgrid", sendgrid_events({"event": "dropped", "reason": "Invalid"}), "rejected"),
        (
            "sendgrid",
            sendgrid_events({"event": "dropped", "reason": "Spam Reporting Address"}),
            "rejected",
        ),
    ],
    ids=[
        "mailgun-failed",
        "mailgun-suppress-bounce",
        "mailgun-complained",
        "sendgrid-bounce",
        "sendgrid-spamreport",
        "sendgrid-dropped-bounced",
        "sendgrid-dropped-invalid",
        "sendgrid-dropped-spam-reporter",
    ],
)
def test_a_permanent_failure_marks_the_address(client, db, serve, provider, body, reason):
    serve(provider=provider)

    response = post_webhook(client, provider, body)

    assert response.status_code == HTTPStatus.OK
    marked = UndeliverableAddress.objects.get()
    assert (marked.email, marked.reason, marked.provider.lower()) == (
        "bouncy@example.com",
        reason,
        provider,
    )
    assert marked.first_seen is not None


@pytest.mark.parametrize(
    ("provider", "body"),
    [
        ("mailgun", mailgun_event("failed", severity="temporary")),
        ("mailgun", mailgun_event("failed", reason="old")),  # gave up retrying
        ("mailgun", mailgun_event("failed", reason="espblock")),  # its IPs were blocked
        ("mailgun", mailgun_event("rejected", reason=None)),  # our request, not the address
        ("mailgun", mailgun_event("delivered")),
        ("sendgrid", sendgrid_events({"event": "bounce", "type": "blocked", "status": "5.7.1"})),
        ("sendgrid", sendgrid_events({"event": "bounce", "type": "bounce", "status": "4.2.2"})),
        ("sendgrid", sendgrid_events({"event": "deferred", "attempt": "3"})),
        ("sendgrid", sendgrid_events({"event": "dropped", "reason": "Spam Content"})),
        ("sendgrid", sendgrid_events({"event": "delivered"}, {"event": "open"})),
    ],
    ids=[
        "mailgun-temporary",
        "mailgun-old",
        "mailgun-espblock",
        "mailgun-rejected",
        "mailgun-delivered",
        "sendgrid-blocked",
        "sendgrid-4xx",
        "sendgrid-deferred",
        "sendgrid-spam-content",
        "sendgrid-delivered",
    ],
)
def test_a_temporary_failure_or_any_other_event_marks_nothing(client, db, serve, provider, body):
    serve(provider=provider)

    assert post_webhook(client, provider, body).status_code == HTTPStatus.OK
    assert not UndeliverableAddress.objects.exists()


def test_a_repeated_bounce_counts_again(client, db, serve):
    serve(provider="mailgun")
    post_webhook(client, "mailgun", mailgun_event("failed"))
    first = UndeliverableAddress.objects.get()

    post_webhook(client, "mailgun", mailgun_event("complained"))

    marked = UndeliverableAddress.objects.get()
    assert (marked.event_count, marked.reason) == (2, "complained")
    assert marked.first_seen == first.first_seen
    assert marked.last_seen > first.last_seen


def test_a_recipient_that_is_no_address_is_skipped_not_a_500(client, db, serve):
    serve(provider="sendgrid")
    body = sendgrid_events(
        {"event": "bounce", "email": "x" * 300 + "@example.com"},
        {"event": "bounce", "email": ""},
        {"event": "bounce", "email": "kept@example.com"},
    )

    assert post_webhook(client, "sendgrid", body).status_code == HTTPStatus.OK
    assert list(UndeliverableAddress.objects.values_list("email", flat=True)) == [
        "kept@example.com"
    ]


def test_a_thousand_events_in_one_post_are_all_handled(client, db, serve):
    serve(provider="sendgrid")
    events = []
    for n in range(500):
        events.append({"event": "bounce", "type": "bounce", "email": f"gone{n}@example.com"})
        events.append({"event": "delivered", "email": f"fine{n}@example.com"})

    started = time.monotonic()
    response = post_webhook(client, "sendgrid", sendgrid_events(*events))

    assert response.status_code == HTTPStatus.OK
    assert UndeliverableAddress.objects.count() == 500
    assert not UndeliverableAddress.objects.filter(email__startswith="fine").exists()
    # Well inside a provider's timeout (SendGrid waits a few seconds, then retries).
    assert time.monotonic() - started < 20


# The admin ------------------------------------------------------------------------


def test_the_admin_lists_when_and_why_each_address_was_suppressed(client, db, serve):
    serve(provider="mailgun")
    post_webhook(client, "mailgun", mailgun_event("failed"))
    client.force_login(User.objects.create_superuser("root", "root@example.com", "x"))

    page = client.get(reverse("admin:auth_flow_undeliverableaddress_changelist")).content
    page = page.decode()

    for shown in ("First seen", "Last seen", "Why", "No such mailbox", "Bounced", "Mailgun"):
        assert shown in page, shown
    assert "bouncy@example.com" in page
