"""Email copy as data: rendering, escaping, and the worker's fallback to shipped copy."""

import json
import logging
import re
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from auth_flow.mail.catalog import EMAIL_KINDS, PASSWORD_RESET
from auth_flow.mail.emails import copy_render, email_render
from auth_flow.models import EmailCopy

ACTION_URL = "https://accounts.example.com/accounts/reset/MQ/abc-123/"


def render(*, body: str, values: dict | None = None, subject: str = "Reset {{ username }}"):
    return copy_render(
        kind=PASSWORD_RESET,
        subject=subject,
        body=body,
        button="Go",
        values={**PASSWORD_RESET.samples(), **(values or {})},
        action_url=ACTION_URL,
    )


def test_a_fresh_database_has_each_email_with_its_shipped_copy_per_language(db, settings):
    stored = {
        (c.name, c.language): (c.subject, c.body, c.button, c.edited)
        for c in EmailCopy.objects.all()
    }
    expected = {}
    for kind in EMAIL_KINDS.values():
        for code, _name in settings.LANGUAGES:
            shipped = kind.shipped(language=code)
            expected[kind.name, code] = (shipped.subject, shipped.body, shipped.button, False)
    assert stored == expected
    assert stored["password_reset", "de"][0] != stored["password_reset", "en"][0]


@pytest.mark.parametrize("name", list(EMAIL_KINDS))
def test_every_email_renders_with_its_sample_values(db, name):
    kind = EMAIL_KINDS[name]
    rendered = email_render(name=name, values=kind.samples(), action_url=ACTION_URL)

    for placeholder in kind.placeholders:
        if f"{{{{ {placeholder.name} }}}}" in kind.body:
            assert placeholder.sample_value() in rendered.text
    assert "{{" not in rendered.text + rendered.html + rendered.subject
    assert (ACTION_URL in rendered.text) is kind.has_button


def test_markup_in_the_copy_shows_as_text_in_the_html_part():
    # Relative addresses: anything that looks like a web address is refused outright.
    rendered = render(
        body='<img src="/track?{{ ip }}">\n\n<a href="/login">Log in here</a>\n\n[button]'
    )

    assert "<img" not in rendered.html
    assert "&lt;img src=&quot;/track?<bdi>203.0.113.7</bdi>&quot;&gt;" in rendered.html
    assert 'href="/login' not in rendered.html
    assert "&lt;a href=&quot;/login&quot;&gt;" in rendered.html
    # The text part is plain text: what was typed, as typed.
    assert '<img src="/track?203.0.113.7">' in rendered.text


def test_no_text_becomes_a_link_except_the_layouts_button():
    # Copy cannot hold a web address (see the next test); a value still might.
    rendered = render(
        body="From {{ browser }}\n\n[button]",
        values={"browser": "https://evil.example/verify or www.evil.example"},
    )

    links = re.findall(r'<a href="([^"]+)"', rendered.html)
    # Button, fallback, footer (which opens the site in the email's language).
    assert links == [ACTION_URL, ACTION_URL, "http://127.0.0.1:8000/?lang=en"]


@pytest.mark.parametrize(
    "body",
    [
        "Visit https://evil.example/verify\n\n[button]",
        "Visit passage-support.example.net\n\n[button]",
        "Open invoice\u202efdp.exe\n\n[button]",
    ],
)
def test_copy_with_a_link_or_an_invisible_character_is_never_rendered(body):
    with pytest.raises(ValidationError, match="Remove"):
        render(body=body)


def test_placeholder_values_are_escaped_and_never_reexpanded():
    rendered = render(
        body="From {{ browser }}\n\n[button]",
        values={"browser": "<script>alert(1)</script> {{ username }}\x00", "username": "alice"},
    )

    assert "<script>" not in rendered.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ username }}" in rendered.html
    assert "\x00" not in rendered.text


def test_button_marker_may_sit_inside_a_paragraph():
    rendered = render(body="Click here: [button] and enjoy.")

    assert rendered.text.index("Click here:") < rendered.text.index(ACTION_URL)
    assert rendered.text.index(ACTION_URL) < rendered.text.index("and enjoy.")


def test_the_worker_sends_the_edited_copy(client, user, mailoutbox):
    EmailCopy.objects.filter(name="password_reset", language="en").update(
        subject="Your {{ site_name }} reset link, {{ username }}",
        body="Hi {{ username }}! A brand new paragraph from marketing.\n\n[button]",
        button="Pick a password",
        edited=True,
    )

    client.post(reverse("password_reset"), {"email": user.email})

    (message,) = mailoutbox
    html = message.alternatives[0].content
    assert message.subject == "Your Passage reset link, alice"
    assert "A brand new paragraph from marketing." in message.body
    assert "A brand new paragraph from marketing." in html
    assert "Pick a password:\nhttp://127.0.0.1:8000/accounts/reset/" in message.body
    assert ">Pick a password</a>" in html


@pytest.mark.parametrize(
    "broken",
    [
        {"body": "Hello {{ user.password }}\n\n[button]"},
        {"body": "No button here"},
        {"subject": "{% debug %}"},
        {"subject": ""},
    ],
    ids=["template-syntax", "no-button", "template-tag-subject", "empty-subject"],
)
def test_a_broken_row_falls_back_to_the_shipped_copy(client, user, mailoutbox, caplog, broken):
    # Written around the admin's validation, as a bad hand-made row or a bug would be.
    EmailCopy.objects.filter(name="password_reset", language="en").update(**broken, edited=True)

    with caplog.at_level(logging.ERROR):
        client.post(reverse("password_reset"), {"email": user.email})

    (message,) = mailoutbox
    assert message.subject == "Reset your Passage password"
    assert "Someone asked to reset the password of your Passage account." in message.body
    assert "/accounts/reset/" in message.body
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    logged = record.getMessage()
    assert "password_reset" in logged
    assert "shipped default" in logged
    assert "/accounts/reset/" not in logged
    assert user.email.lower() not in logged.lower()


def test_a_missing_row_sends_the_shipped_copy(client, user, mailoutbox):
    EmailCopy.objects.all().delete()

    client.post(reverse("password_reset"), {"email": user.email})

    assert mailoutbox[0].subject == "Reset your Passage password"


def test_copy_moves_between_environments_by_natural_key(db, tmp_path, settings):
    EmailCopy.objects.filter(name="password_changed", language="de").update(
        subject="Verschoben {{ username }}", edited=True
    )
    out = StringIO()
    call_command(
        "dumpdata", "auth_flow.EmailCopy", natural_primary=True, format="json", stdout=out
    )
    dumped = json.loads(out.getvalue())
    assert all("pk" not in row for row in dumped)
    languages = [code for code, _ in settings.LANGUAGES]
    assert sorted((row["fields"]["name"], row["fields"]["language"]) for row in dumped) == sorted(
        (name, code) for name in EMAIL_KINDS for code in languages
    )

    # Another environment: the same emails, other primary keys, the old copy.
    EmailCopy.objects.all().delete()
    for kind in reversed(EMAIL_KINDS.values()):
        for code in reversed(languages):
            EmailCopy.objects.create(
                name=kind.name, language=code, subject=kind.subject, body=kind.body
            )
    fixture = tmp_path / "copy.json"
    fixture.write_text(json.dumps(dumped))
    call_command("loaddata", str(fixture), verbosity=0)

    assert EmailCopy.objects.count() == len(EMAIL_KINDS) * len(languages)
    moved = EmailCopy.objects.get(name="password_changed", language="de")
    assert (moved.subject, moved.edited) == ("Verschoben {{ username }}", True)
    assert EmailCopy.objects.get(name="password_changed", language="en").subject == (
        EMAIL_KINDS["password_changed"].subject
    )


def test_the_real_worker_process_sends_the_edited_copy(client, user, settings, transactional_db):
    from auth_flow.devtools.smtp_sink import SmtpSink
    from auth_flow.tests.test_tasks import wait_for, worker_process

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    EmailCopy.objects.filter(name="password_reset", language="en").update(
        subject="Edited: reset for {{ username }}",
        body="A paragraph marketing wrote, & <kept> as text.\n\n[button]",
        edited=True,
    )
    sink = SmtpSink().start()
    worker = worker_process(smtp_port=sink.port)
    try:
        client.post(reverse("password_reset"), {"email": user.email})
        wait_for(lambda: sink.messages)
    finally:
        worker.terminate()
        worker.wait(10)
        sink.stop()

    (message,) = sink.messages
    assert message["Subject"] == "Edited: reset for alice"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "A paragraph marketing wrote, & <kept> as text." in text
    assert "A paragraph marketing wrote, &amp; &lt;kept&gt; as text." in html
    assert "https://accounts.example.com/accounts/reset/" in text


def test_the_migrations_ship_the_catalogues_default_copy():
    from importlib import import_module

    shipped = {}
    for name in ("0004_email_copy_defaults_marketing_group", "0007_signup_email_copy"):
        shipped |= import_module(f"auth_flow.migrations.{name}").COPY
    # 0009 took {{ username }} out of the confirmation email.
    shipped["email_verification"] = import_module(
        "auth_flow.migrations.0009_pending_signup"
    ).VERIFICATION
    # 0011 says "the button below" where a button stands.
    wording = import_module("auth_flow.migrations.0011_button_wording")
    for name, old in wording.OLD.items():
        shipped[name]["body"] = shipped[name]["body"].replace(old, wording.NEW[name])

    assert {
        kind.name: {"subject": kind.subject, "body": kind.body, "button": kind.button}
        for kind in EMAIL_KINDS.values()
    } == shipped


def test_the_check_names_stored_copy_the_rules_now_refuse(db):
    from auth_flow.checks import check_email_copy

    assert check_email_copy(None) == []
    EmailCopy.objects.filter(name="password_reset", language="ja").update(
        body="こんにちは\n\n[button]\n\nsupport@passage-help.com までご連絡ください。"
    )

    (warning,) = check_email_copy(None)
    assert warning.id == "auth_flow.W002"
    assert "Japanese copy of the 'password_reset' email" in warning.msg
