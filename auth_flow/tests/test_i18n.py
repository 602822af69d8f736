"""Each person in their own language: which one a page answers in, and how it is chosen."""

import re
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from auth_flow.tests.conftest import PASSWORD


def page_language(response) -> tuple[str, str]:
    """Return the <html lang dir> a page answered with."""
    match = re.search(r'<html lang="([^"]+)" dir="(ltr|rtl)">', response.content.decode())
    assert match, response.content[:300]
    return match.group(1), match.group(2)


def translated(text: str, *, language: str) -> str:
    with translation.override(language):
        return translation.gettext(text)


def log_in(client: Client, **data):
    return client.post(reverse("login"), {"username": "alice", "password": PASSWORD, **data})


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("de-DE,de;q=0.9,en;q=0.5", ("de", "ltr")),
        ("ar", ("ar", "rtl")),
        ("pt-BR", ("pt-br", "ltr")),
    ],
)
def test_a_page_answers_in_the_browsers_language(client, db, accept, expected):
    response = client.get(reverse("login"), headers={"accept-language": accept})

    assert page_language(response) == expected
    assert translated("Forgot your password?", language=expected[0]) in response.content.decode()


def test_without_any_choice_the_site_speaks_language_code(client, db, settings):
    settings.LANGUAGE_CODE = "fr"

    response = client.get(reverse("login"), headers={"accept-language": "nl"})

    assert page_language(response) == ("fr", "ltr")


def test_a_choice_in_this_browser_beats_its_accept_language(client, db):
    chosen = client.post(
        reverse("set_language"), {"language": "es", "next": reverse("password_reset")}
    )

    # An ordinary form post and redirect: it works without JavaScript.
    assert chosen.status_code == HTTPStatus.FOUND
    assert chosen["Location"] == reverse("password_reset")
    assert chosen.cookies["django_language"].value == "es"
    page = client.get(reverse("password_reset"), headers={"accept-language": "de"})
    assert page_language(page) == ("es", "ltr")


def test_the_accounts_saved_language_beats_the_browsers_choice(client, user):
    user.language = "ja"
    user.save()
    client.cookies["django_language"] = "fr"
    client.force_login(user)

    page = client.get(reverse("password_change"), headers={"accept-language": "de"})

    assert page_language(page) == ("ja", "ltr")
    # The browser follows, so pages that never read the session agree.
    assert page.cookies["django_language"].value == "ja"


def test_choosing_while_logged_in_saves_the_choice_to_the_account(client_logged_in, user):
    client_logged_in.post(reverse("set_language"), {"language": "de", "next": "/"})

    user.refresh_from_db()
    assert user.language == "de"
    assert page_language(client_logged_in.get("/")) == ("de", "ltr")


def test_a_choice_made_before_logging_in_is_saved_at_log_in(client, user):
    user.language = "fr"
    user.save()
    client.post(reverse("set_language"), {"language": "de", "next": reverse("login")})

    log_in(client)

    user.refresh_from_db()
    assert user.language == "de"  # the latest explicit choice wins
    assert page_language(client.get("/")) == ("de", "ltr")


def test_log_in_applies_the_saved_language_over_the_browsers(client, user):
    user.language = "fr"
    user.save()

    answer = log_in(client, time_zone="Europe/Paris")

    assert answer.cookies["django_language"].value == "fr"
    assert page_language(client.get("/", headers={"accept-language": "de"})) == ("fr", "ltr")
    user.refresh_from_db()
    assert user.time_zone == "Europe/Paris"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "x" * 65, ""])
def test_a_time_zone_zoneinfo_does_not_know_is_ignored(client, user, zone):
    user.time_zone = "Asia/Tokyo"
    user.save()

    assert log_in(client, time_zone=zone).status_code == HTTPStatus.FOUND

    user.refresh_from_db()
    assert user.time_zone == "Asia/Tokyo"


@pytest.mark.parametrize("language", ["xx", "en-gb-oed", "../de", ""])
def test_a_language_that_is_not_shipped_changes_nothing(client_logged_in, user, language):
    answer = client_logged_in.post(reverse("set_language"), {"language": language, "next": "/"})

    assert answer.status_code == HTTPStatus.FOUND
    user.refresh_from_db()
    assert user.language == ""
    assert page_language(client_logged_in.get("/")) == ("en", "ltr")


def test_a_foreign_next_is_not_followed(client, db):
    answer = client.post(
        reverse("set_language"), {"language": "de", "next": "https://evil.example/"}
    )

    assert answer.status_code == HTTPStatus.FOUND
    assert not answer["Location"].startswith("https://evil.example")


def test_the_language_menu_works_without_javascript(client, db):
    page = client.get(reverse("password_reset")).content.decode()

    form = re.search(
        r'<form method="post" action="([^"]+)" class="language-choices.*?</form>', page, re.S
    )
    assert form
    assert form.group(1) == reverse("set_language")
    assert f'name="next" value="{reverse("password_reset")}"' in form.group(0)
    # Each language named in itself, so a person finds theirs whatever the page speaks.
    for code in ("de", "ar", "ja", "pt-br"):
        assert f'name="language" value="{code}" lang="{code}"' in form.group(0)
        assert translation.get_language_info(code)["name_local"] in form.group(0)


def test_a_link_with_lang_opens_its_page_in_that_language_and_the_menu_drops_it(client, db):
    page = client.get(reverse("password_reset") + "?lang=de", headers={"accept-language": "en"})

    assert page_language(page) == ("de", "ltr")
    assert page.cookies["django_language"].value == "de"
    # Switching from this page returns to it without ?lang=, which would undo the switch.
    assert f'name="next" value="{reverse("password_reset")}"' in page.content.decode()


@pytest.mark.parametrize(
    "path",
    ["login", "password_reset", "signup", "api_schema", "health"],
)
def test_urls_carry_no_language_prefix_and_do_not_redirect(client, db, path):
    assert not re.match(r"/(de|fr|es|pt-br|ja|ar)/", reverse(path))

    answer = client.get(reverse(path), headers={"accept-language": "de"})

    assert answer.status_code == HTTPStatus.OK


def test_the_page_gives_scripts_their_words_in_its_language(client, db):
    page = client.get(reverse("login"), headers={"accept-language": "de"}).content.decode()

    assert '<script id="script-strings" type="application/json">' in page
    assert translated("Show password", language="de") in page
    assert translated("Show password", language="de") != "Show password"


def test_arabic_pages_use_bootstraps_right_to_left_stylesheet(client, db):
    page = client.get(reverse("login"), headers={"accept-language": "ar"}).content.decode()

    assert page_language(client.get(reverse("login"), headers={"accept-language": "ar"})) == (
        "ar",
        "rtl",
    )
    assert re.search(
        r'id="bootstrap-css" rel="stylesheet" href="[^"]*bootstrap\.rtl\.min\.css"', page
    )


def test_form_errors_come_in_the_pages_language(client, db):
    answer = client.post(
        reverse("password_reset"), {"email": ""}, headers={"accept-language": "de"}
    )

    # Django's own message, in Django's own German.
    assert "Dieses Feld ist zwingend erforderlich." in answer.content.decode()


def test_the_password_rules_answer_in_the_browsers_language(client, user):
    user.language = "fr"
    user.save()
    client.force_login(user)
    client.get("/")  # the account's language becomes this browser's too

    answer = client.post(
        reverse("password_rules"),
        {"password1": "short"},
        headers={"HX-Request": "true", "HX-Trigger-Name": "password1"},
    )

    assert answer["Content-Language"] == "fr"
    assert translated("Not yet:", language="fr") in answer.content.decode()
