"""Each email in its recipient's language, time zone and direction, from the right copy."""

import logging
import re
from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from auth_flow.mail.catalog import EMAIL_KINDS, PASSWORD_RESET
from auth_flow.mail.emails import datetime_show, email_render, link_expiry
from auth_flow.models import EmailCopy, User
from auth_flow.tests.conftest import reset_link_from
from auth_flow.tests.test_signup import signup, verify_link_from

SAMPLE_URL = "http://127.0.0.1:8000/accounts/reset/MQ/token/"


def shipped_subject(name: str, *, language: str, **values) -> str:
    """Return an email's shipped subject in a language, filled as the site fills it."""
    shipped = EMAIL_KINDS[name].shipped(language=language)
    assert shipped, f"{name} is not translated into {language}"
    # A right-to-left subject starts with a right-to-left mark, so an inbox shows it so.
    mark = "\u200f" if translation.get_language_info(language)["bidi"] else ""
    return mark + shipped.subject.replace("{{ site_name }}", "Passage")


def reset_request(client: Client, email: str, **headers):
    return client.post(reverse("password_reset"), {"email": email}, headers=headers)


@pytest.mark.parametrize("language", ["de", "fr", "es", "pt-br", "ja", "ar"])
def test_every_email_ships_translated_and_within_the_copy_rules(language):
    for kind in EMAIL_KINDS.values():
        shipped = kind.shipped(language=language)
        assert shipped, f"{kind.name} has untranslated fields in {language}"
        assert shipped.subject != kind.subject
        problems = kind.problems(subject=shipped.subject, body=shipped.body, button=shipped.button)
        assert problems == {}, (kind.name, problems)


def test_the_accounts_language_wins_over_the_requests(client, user, mailoutbox):
    user.language = "de"
    user.save()

    reset_request(client, user.email, **{"accept-language": "fr"})

    (message,) = mailoutbox
    assert message.subject == shipped_subject("password_reset", language="de")
    html = message.alternatives[0].content
    assert '<html lang="de" dir="ltr">' in html
    # Its link opens the page in German, whatever that browser's language.
    path = reset_link_from(message, language="de")
    page = client.get(path + "?lang=de", follow=True, headers={"accept-language": "en"})
    assert '<html lang="de" dir="ltr">' in page.content.decode()


def test_without_a_saved_language_the_email_follows_the_request(client, user, mailoutbox):
    reset_request(client, user.email, **{"accept-language": "ja,en;q=0.5"})

    (message,) = mailoutbox
    assert message.subject == shipped_subject("password_reset", language="ja")
    assert "1時間" in message.body  # the expiry, in Japanese


def test_an_unknown_address_is_answered_in_the_requests_language(client, db, settings, mailoutbox):
    settings.PASSWORD_RESET_NOTIFY_UNKNOWN = True

    reset_request(client, "nobody@example.com", **{"accept-language": "es"})

    (message,) = mailoutbox
    assert message.subject == shipped_subject("password_reset_unknown", language="es")


def test_a_pending_sign_up_is_confirmed_in_the_language_it_was_made_in(client, db, mailoutbox):
    signup(client, **{"accept-language": "pt-BR"})

    (message,) = mailoutbox
    assert message.subject == shipped_subject("email_verification", language="pt-br")
    link = verify_link_from(message)
    assert f"{link}?lang=pt-br" in message.body


def test_with_no_language_anywhere_the_email_is_in_language_code(
    client, user, settings, mailoutbox
):
    settings.LANGUAGE_CODE = "fr"

    reset_request(client, user.email, **{"accept-language": "nl"})

    assert mailoutbox[0].subject == shipped_subject("password_reset", language="fr")


@pytest.mark.parametrize("meta_language", ["xx", "../../de", "de" * 20, None, 7])
def test_a_stored_language_that_is_not_shipped_is_never_trusted(db, meta_language, settings):
    from auth_flow.mail.emails import recipient_language

    settings.LANGUAGE_CODE = "es"

    assert recipient_language(meta={"language": meta_language}) == "es"


def test_times_are_in_the_requests_time_zone_and_say_which(client, user, mailoutbox):
    client.post(
        reverse("password_reset"),
        {"email": user.email, "time_zone": "Asia/Tokyo"},
        headers={"accept-language": "en"},
    )

    body = mailoutbox[0].body
    assert re.search(r"\d{1,2} \w+ \d{4} at \d\d:\d\d Asia/Tokyo", body), body


def test_times_are_in_utc_when_nobody_said_otherwise(client, user, mailoutbox):
    client.post(reverse("password_reset"), {"email": user.email, "time_zone": "Moon/Base"})

    assert re.search(r"at \d\d:\d\d UTC", mailoutbox[0].body)


def test_values_are_written_in_the_emails_language():
    moment = datetime(2026, 11, 24, 18, 30, tzinfo=UTC)

    with translation.override("fr"):
        assert datetime_show(moment, zone="Europe/Paris").startswith("24 novembre 2026")
        assert "19:30 Europe/Paris" in datetime_show(moment, zone="Europe/Paris")
        assert link_expiry(expires_at=moment + timedelta(hours=1), now=moment)["expires_in"] == (
            "1\xa0heure"
        )
    with translation.override("de"):
        assert link_expiry(expires_at=moment + timedelta(hours=1), now=moment)["expires_in"] == (
            "1\xa0Stunde"
        )
        assert "November 2026" in datetime_show(moment, zone="")
    with translation.override("ja"):
        assert "2026年11月24日" in datetime_show(moment, zone="")


def test_an_arabic_email_reads_right_to_left_with_values_isolated(db):
    values = {**PASSWORD_RESET.samples(), "username": "alice", "browser": "Firefox on Linux"}

    rendered = email_render(
        name="password_reset", values=values, action_url=SAMPLE_URL, language="ar"
    )

    assert '<html lang="ar" dir="rtl">' in rendered.html
    assert "text-align: right" in rendered.html or "text-align:right" in rendered.html
    # A Latin name inside Arabic text keeps its place; so does the link, left to right.
    assert "<bdi>alice</bdi>" in rendered.html
    assert "\u2068alice\u2069" in rendered.text
    assert rendered.subject.startswith("\u200f")  # reads right to left in an inbox
    assert all(line.startswith("\u200f") for line in rendered.text.split("\n\n")[0].splitlines())


# The copy each language's email uses -----------------------------------------------------


def edit(*, language: str, **words) -> None:
    updated = EmailCopy.objects.filter(name="password_reset", language=language).update(
        **words, edited=True
    )
    assert updated == 1


def test_a_languages_own_copy_goes_to_that_language_only(client, db, mailoutbox):
    edit(language="de", subject="Neues Passwort für {{ username }}")
    for username, language in [("greta", "de"), ("emma", "")]:
        User.objects.create_user(
            username=username,
            email=f"{username}@example.com",
            password="a-good-passphrase-77",
            language=language,
        )

    reset_request(client, "greta@example.com")
    reset_request(client, "emma@example.com")

    assert [m.subject for m in mailoutbox] == [
        "Neues Passwort für greta",
        "Reset your Passage password",
    ]


def test_an_unedited_language_uses_its_shipped_default(client, user, mailoutbox):
    edit(language="en", subject="Edited English subject")
    user.language = "fr"
    user.save()

    reset_request(client, user.email)

    assert mailoutbox[0].subject == shipped_subject("password_reset", language="fr")


def test_a_broken_copy_falls_back_to_its_languages_shipped_default(
    client, user, mailoutbox, caplog
):
    edit(language="ja", body="{{ user.password }}\n\n[button]")
    user.language = "ja"
    user.save()

    with caplog.at_level(logging.ERROR):
        reset_request(client, user.email)

    assert mailoutbox[0].subject == shipped_subject("password_reset", language="ja")
    assert "sending the ja shipped default instead" in caplog.text


def test_a_language_without_translations_gets_the_default_languages_copy_coherently(
    client, user, settings, mailoutbox
):
    # A language added to LANGUAGES later, before anyone translated the emails.
    settings.LANGUAGES = [*settings.LANGUAGES, ("nl", "Nederlands")]
    edit(language="en", subject="Edited English subject")
    user.language = "nl"
    user.save()

    reset_request(client, user.email)

    message = mailoutbox[0]
    assert message.subject == "Edited English subject"
    # The layout and the filled-in values follow the copy's language, not Dutch.
    html = message.alternatives[0].content
    assert '<html lang="en" dir="ltr">' in html
    assert "hour" in message.body
    assert "?lang=en" in message.body


def test_a_missing_languages_row_falls_back_to_its_shipped_default(client, user, mailoutbox):
    EmailCopy.objects.filter(language="es").delete()
    user.language = "es"
    user.save()

    reset_request(client, user.email)

    assert mailoutbox[0].subject == shipped_subject("password_reset", language="es")


def test_each_language_has_a_row_whose_history_starts_with_its_shipped_words(db):
    for code, _name in [("de", ""), ("ar", "")]:
        copy = EmailCopy.objects.get(name="password_reset", language=code)
        first = copy.history.earliest("history_date")
        assert first.subject == PASSWORD_RESET.shipped(language=code).subject
        assert not copy.edited


# The API ------------------------------------------------------------------------------------


def test_the_api_answers_and_emails_in_the_accept_language(db, user, mailoutbox):
    api = Client()

    refused = api.post(
        reverse("api_password_reset"),
        {},
        content_type="application/json",
        headers={"accept-language": "de"},
    )
    sent = api.post(
        reverse("api_password_reset"),
        {"email": user.email},
        content_type="application/json",
        headers={"accept-language": "de"},
    )

    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert refused["Content-Language"] == "de"
    assert "Dieses Feld ist zwingend erforderlich." in refused.content.decode()
    assert sent.status_code == HTTPStatus.OK
    assert mailoutbox[0].subject == shipped_subject("password_reset", language="de")


def test_the_schema_documents_accept_language(client, db):
    schema = client.get(reverse("api_schema"), HTTP_ACCEPT="application/json").json()

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            names = {(p["in"], p["name"]) for p in operation.get("parameters", [])}
            assert ("header", "Accept-Language") in names, (method, path)
    parameter = next(
        p
        for p in schema["paths"]["/api/auth/password/reset/"]["post"]["parameters"]
        if p["name"] == "Accept-Language"
    )
    assert parameter["schema"] == {"type": "string"}  # weights and regions are valid too
    assert {example["value"] for example in parameter["examples"].values()} >= {
        "en",
        "de",
        "ar",
        "pt-br",
    }


def test_the_account_language_sent_with_no_request_at_all(db, mailoutbox, user):
    # Staff queue a reset for an account: the account's language, not the staff member's.
    from auth_flow.mail import tasks

    user.language = "ar"
    user.save()
    with translation.override("en"):
        tasks.password_reset_send.enqueue(
            email=user.email, meta={"requested_at": timezone.now().isoformat()}
        )

    assert mailoutbox[0].subject == shipped_subject("password_reset", language="ar")
