"""Every email renders, carries its link from SITE_URL, and goes out through the provider."""

import io
import re
from unittest import mock

import pytest
from django.urls import reverse

from auth_flow.devtools.smtp_sink import SmtpSink
from auth_flow.mail.emails import EMAIL_NAMES, email_render, email_send, user_agent_describe
from auth_flow.models import UndeliverableAddress
from site_config.settings import mailer_config

ACTION_URL = "https://accounts.example.com/accounts/reset/MQ/abc-123/"
SAMPLE = {
    "username": "alice",
    "email": "nobody@example.com",
    "expires_in": "1\xa0hour",
    "expires_at": "24 November 2026, 19:30 UTC",
    "requested_at": "24 November 2026 at 18:30 UTC",
    "ip": "203.0.113.7",
    "browser": "Firefox on Linux",
}


@pytest.mark.parametrize("name", EMAIL_NAMES)
def test_every_email_renders_text_and_html_from_one_copy(name, db):
    rendered = email_render(name=name, values=SAMPLE, action_url=ACTION_URL)

    assert rendered.subject
    assert "\n" not in rendered.subject
    assert "{{" not in rendered.text
    assert "[button]" not in rendered.text
    assert "[button]" not in rendered.html
    assert rendered.html.startswith("<!doctype html>")
    # Inline styles for mail clients; the one style sheet only adds the dark colours
    # for clients that honour them.
    (sheet,) = re.findall(r"<style>(.*?)</style>", rendered.html, re.S)
    assert re.fullmatch(
        r"\s*:root\s*\{[^{}]*\}\s*@media \(prefers-color-scheme: dark\)\s*\{.*\}\s*", sheet, re.S
    ), sheet
    assert "<img" not in rendered.html
    assert "203.0.113.7" in rendered.text
    assert "203.0.113.7" in rendered.html
    assert "using Firefox on Linux" in rendered.text


def test_reset_email_says_what_to_do_and_when_the_link_expires(db):
    rendered = email_render(name="password_reset", values=SAMPLE, action_url=ACTION_URL)

    assert ACTION_URL in rendered.text
    assert f'href="{ACTION_URL}"' in rendered.html
    assert "expires in 1\xa0hour" in rendered.text
    assert "If this wasn't you, ignore this email" in rendered.text


def test_unknown_address_notice_has_no_reset_link(db):
    rendered = email_render(name="password_reset_unknown", values=SAMPLE, action_url=ACTION_URL)

    assert "/reset/" not in rendered.text
    assert "/reset/" not in rendered.html
    assert "nobody@example.com" in rendered.text


def test_reset_email_is_multipart_from_the_configured_sender(client, user, settings, mailoutbox):
    settings.DEFAULT_FROM_EMAIL = "Passage <accounts@example.com>"
    settings.PASSWORD_RESET_TIMEOUT = 30 * 60

    client.post(
        reverse("password_reset"), {"email": "ALICE@example.com"}, REMOTE_ADDR="198.51.100.9"
    )

    (message,) = mailoutbox
    assert message.from_email == "Passage <accounts@example.com>"
    assert message.to == ["Alice@example.com"]
    assert message.subject == "Reset your Passage password"
    assert message.alternatives[0].mimetype == "text/html"
    assert "expires in 30\xa0minutes" in message.body
    assert "198.51.100.9" in message.body


def test_unknown_address_notice_is_off_by_default(client, db, settings, mailoutbox):
    client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert mailoutbox == []

    settings.PASSWORD_RESET_NOTIFY_UNKNOWN = True
    client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert [m.subject for m in mailoutbox] == [
        "Password reset requested for an address without an account"
    ]


def test_password_changed_notice_after_a_reset(client, user, reset_path, mailoutbox):
    set_password_url = client.get(reset_path)["Location"]

    client.post(
        set_password_url,
        {"new_password1": "n3w-Passw0rd-lantern!", "new_password2": "n3w-Passw0rd-lantern!"},
    )

    notice = mailoutbox[-1]
    assert notice.subject == "Your Passage password was changed"
    assert f"http://127.0.0.1:8000{reverse('password_reset')}" in notice.body


def test_nothing_is_sent_to_an_undeliverable_address(db, mailoutbox):
    UndeliverableAddress.objects.create(
        email="gone@example.com", reason="bounced", provider="mailgun"
    )

    email_send(
        name="password_changed", to="Gone@Example.com", values=SAMPLE, action_url=ACTION_URL
    )

    assert mailoutbox == []


@pytest.mark.parametrize(
    ("user_agent", "described"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/140.0.0.0 Safari/537.36",
            "Chrome on Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
            "Safari on iOS",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
            "Firefox on Linux",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36 Edg/140.0.0.0",
            "Edge on macOS",
        ),
        ("curl/8.5.0", "an unknown browser"),
        ("", "an unknown browser"),
        (
            "Mozilla/5.0 (X11; Linux x86_64) using our security team. URGENT: verify at "
            "https://evil.example/login",
            "a browser on Linux",
        ),
        ("Firefox/140.0 https://evil.example", "Firefox"),
    ],
)
def test_the_browser_is_named_the_way_a_person_would(user_agent, described):
    assert user_agent_describe(user_agent=user_agent) == described


# Providers ----------------------------------------------------------------------------


def test_mailgun_sends_the_right_message(settings, monkeypatch, db):
    monkeypatch.setenv("MAILGUN_API_KEY", "key-test")
    monkeypatch.setenv("MAILGUN_SENDER_DOMAIN", "mg.example.com")
    monkeypatch.setenv("MAILGUN_API_URL", "https://api.eu.mailgun.net/v3")
    settings.MAILERS = {"default": mailer_config("mailgun")}
    settings.DEFAULT_FROM_EMAIL = "Passage <accounts@example.com>"
    response = mock.Mock(status_code=200, json=lambda: {"id": "<1@mg>", "message": "Queued"})
    response.text = '{"id": "<1@mg>"}'

    with mock.patch("requests.Session.request", return_value=response) as request:
        email_send(
            name="password_reset", to="alice@example.com", values=SAMPLE, action_url=ACTION_URL
        )

    call = request.call_args.kwargs
    assert call["method"] == "POST"
    assert call["url"] == "https://api.eu.mailgun.net/v3/mg.example.com/messages"
    assert call["auth"] == ("api", "key-test")
    data = call["data"]
    assert data["from"] == ["Passage <accounts@example.com>"]
    assert data["to"] == ["alice@example.com"]
    assert data["subject"] == "Reset your Passage password"
    assert ACTION_URL in data["text"]
    assert f'href="{ACTION_URL}"' in data["html"]


def test_sendgrid_goes_through_its_smtp_relay_with_the_api_key(settings, monkeypatch, db):
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.test-key")
    config = mailer_config("sendgrid")
    assert config["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (config["OPTIONS"]["host"], config["OPTIONS"]["port"]) == ("smtp.sendgrid.net", 587)
    assert config["OPTIONS"]["use_tls"] is True
    # The same options against a local relay (no TLS there) show what SendGrid receives.
    sink = SmtpSink().start()
    settings.MAILERS = {
        "default": {
            **config,
            "OPTIONS": {
                **config["OPTIONS"],
                "host": "127.0.0.1",
                "port": sink.port,
                "use_tls": False,
            },
        }
    }
    settings.DEFAULT_FROM_EMAIL = "Passage <accounts@example.com>"
    try:
        email_send(
            name="password_reset", to="alice@example.com", values=SAMPLE, action_url=ACTION_URL
        )
    finally:
        sink.stop()

    assert sink.logins == [("apikey", "SG.test-key")]
    (message,) = sink.messages
    assert message["From"] == "Passage <accounts@example.com>"
    assert message["To"] == "alice@example.com"
    assert message["Subject"] == "Reset your Passage password"
    assert ACTION_URL in message.get_body(("plain",)).get_content()
    assert f'href="{ACTION_URL}"' in message.get_body(("html",)).get_content()


def test_the_local_console_prints_the_link_whole_and_the_html_part_to_open(settings, db, tmp_path):
    from pathlib import Path
    from urllib.parse import urlsplit

    stream = io.StringIO()
    settings.MAILERS = {
        "default": {
            "BACKEND": "auth_flow.mail.console.ReadableConsoleBackend",
            "OPTIONS": {"stream": stream, "html_dir": tmp_path},
        }
    }

    for _ in range(22):
        email_send(
            name="password_reset", to="alice@example.com", values=SAMPLE, action_url=ACTION_URL
        )

    printed = stream.getvalue()
    assert "Subject: Reset your Passage password" in printed
    assert f"\n{ACTION_URL}\n" in printed
    # Each email's HTML part is a file whose address is printed, to open in a browser.
    last = printed.rsplit("HTML part: ", 1)[1].split("\n", 1)[0]
    shown = Path(urlsplit(last).path)
    assert shown.parent == tmp_path.resolve()
    assert f'href="{ACTION_URL}"' in shown.read_text()
    assert len(list(tmp_path.glob("*.html"))) == 20  # the newest kept, not every one


def test_a_reset_email_writes_every_moment_one_way_and_names_its_button(client, user, mailoutbox):
    import re

    client.post(reverse("password_reset"), {"email": user.email})

    (message,) = mailoutbox
    moments = re.findall(r"\d{1,2} [A-Z][a-z]+ \d{4}\S? (?:at )?\d{2}:\d{2} UTC", message.body)
    assert len(moments) == 2  # when it expires, when it was asked for
    assert all(re.fullmatch(r"\d{1,2} [A-Z][a-z]+ \d{4} at \d{2}:\d{2} UTC", m) for m in moments)
    assert "the button below" in message.body
    assert "the link below" not in message.body
