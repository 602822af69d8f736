"""Entering a new password: the rules while typing, and what a form error keeps."""

import html
import logging
import re
from http import HTTPStatus

import pytest
from django.urls import reverse

RULES = reverse("password_rules")


def input_tag(response, *, name: str) -> str:
    """Return the <input> tag of the named field in a page."""
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', response.content.decode())
    assert match, name
    return match.group(0)


def text(response) -> str:
    return html.unescape(response.content.decode())


def rules_check(client, *, field: str = "password1", **data):
    """Ask the rules endpoint as the page's script does after a pause in typing."""
    return client.post(RULES, data, headers={"HX-Request": "true", "HX-Trigger-Name": field})


def test_the_rules_a_password_does_not_meet_yet_are_listed(client, db):
    response = rules_check(client, password1="short", username="zoe", email="zoe@example.com")

    page = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "Not yet:" in page
    assert "This password is too short." in page
    # Only the rules that fail; never the password itself.
    assert "short</" not in page.replace("too short.", "")
    assert 'value="' not in page


def test_a_password_meeting_every_rule_says_so(client, db):
    response = rules_check(client, password1="a quiet lighthouse by the sea", username="zoe")

    page = response.content.decode()
    assert "Not yet:" not in page
    assert "This password meets the rules." in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # What the person typed into the sign-up form's other fields is the context.
        ({"username": "zoe-the-great", "email": "z@example.com"}, "can't contain the site"),
        ({"username": "someone", "email": "zoe-the-great@example.com"}, "can't contain the site"),
    ],
)
def test_the_rules_compare_with_the_username_and_address_being_typed(client, db, data, message):
    response = rules_check(client, password1="zoe-the-great forever and ever", **data)

    assert message in text(response)


def test_the_reset_and_change_pages_give_the_check_the_username(client_logged_in, user):
    page = client_logged_in.get(reverse("password_change"))

    assert 'name="username"' in input_tag(page, name="username")
    assert f'value="{user.username}"' in input_tag(page, name="username")


def test_a_check_never_touches_the_session(client_logged_in, user):
    # A check in flight while a change rotates the session must not log the person out.
    client_logged_in.cookies["sessionid"] = "a-session-key-that-is-gone"

    response = rules_check(
        client_logged_in, field="new_password1", new_password1="x", username=user.username
    )

    assert "sessionid" not in response.cookies


def test_the_breach_check_is_left_to_submit(client, db, settings):
    settings.PWNED_PASSWORDS_CHECK = True
    settings.PWNED_PASSWORDS_API_URL = "http://127.0.0.1:9"  # nothing listens: never asked

    response = rules_check(client, password1="a quiet lighthouse by the sea")

    page = response.content.decode()
    assert "meets the rules" in page
    assert "checked against known data breaches when you submit" in page


@pytest.mark.parametrize("field", ["old_password", "password", "username", ""])
def test_only_a_new_password_field_is_ever_checked(client, db, field):
    response = rules_check(client, field=field, **{field or "x": "short"})

    assert response.status_code == HTTPStatus.OK
    assert response.content.strip() == b""


def test_checks_are_rate_limited_per_client(client, db, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_rules": "2/900"}

    answers = [rules_check(client, password1="short") for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert "Checking paused" in answers[-1].content.decode()


def test_a_check_is_logged_without_the_password(client, db, caplog):
    with caplog.at_level(logging.DEBUG):
        rules_check(client, password1="my-secret-typing-123")

    assert "my-secret-typing-123" not in caplog.text


def test_the_endpoint_takes_only_post(client, db):
    assert client.get(RULES).status_code == HTTPStatus.METHOD_NOT_ALLOWED


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        ("signup", ("password1", "password2")),
        ("password_change", ("new_password1", "new_password2")),
    ],
)
def test_new_password_fields_are_marked_for_the_script(client_logged_in, name, fields):
    if name == "signup":
        client_logged_in.logout()
    response = client_logged_in.get(reverse(name))

    first, second = fields
    for field in fields:
        assert "data-keep-value" in input_tag(response, name=field)
        assert 'maxlength="4096"' in input_tag(response, name=field)
    assert f'data-rules-url="{RULES}"' in input_tag(response, name=first)
    assert "data-rules-url" not in input_tag(response, name=second)


def test_the_old_password_is_kept_only_when_it_was_right(client_logged_in, password):
    url = reverse("password_change")
    headers = {"HX-Request": "true", "HX-Target": "main"}
    mismatch = {"new_password1": "a quiet lighthouse 1", "new_password2": "another one 2"}

    wrong = client_logged_in.post(url, {"old_password": "nope", **mismatch}, headers=headers)
    right = client_logged_in.post(url, {"old_password": password, **mismatch}, headers=headers)

    assert "data-keep-value" not in input_tag(wrong, name="old_password")
    assert "data-keep-value" in input_tag(right, name="old_password")
    # Kept by the page's script: the server never sends a password back.
    for response in (wrong, right):
        assert password not in response.content.decode()
        assert "a quiet lighthouse 1" not in response.content.decode()


def test_the_log_in_password_keeps_nothing_and_is_capped(client, db, settings):
    response = client.get(reverse("login"))

    assert "data-keep-value" not in response.content.decode()
    assert f'maxlength="{settings.PASSWORD_MAX_LENGTH}"' in input_tag(response, name="password")


def test_a_huge_log_in_password_is_refused_without_a_500(client, user, settings):
    response = client.post(
        reverse("login"),
        {"username": user.username, "password": "x" * (settings.PASSWORD_MAX_LENGTH + 1)},
    )

    assert response.status_code == HTTPStatus.OK
    assert b"Ensure this value has at most" in response.content
