"""Sign-up tells nobody which addresses have accounts, and a new account confirms its
address through a one-time link before it can be used."""

import re
from http import HTTPStatus

import pytest
import requests
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from auth_flow.models import User
from auth_flow.tests.conftest import at_once, comparable

PASSWORD = "a-good-passphrase-77"


def signup(client, *, username="bob", email="bob@example.com", **headers):
    return client.post(
        reverse("signup"),
        {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD},
        headers=headers,
    )


def verify_link_from(message) -> str:
    match = re.search(r"http://127\.0\.0\.1:8000(/accounts/verify/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_signup_creates_an_inactive_account_and_sends_a_confirmation_link(
    any_client, mode, mailoutbox
):
    response = signup(any_client)

    target = response["HX-Location"] if mode == "htmx" else response["Location"]
    assert reverse("signup_done") in target
    bob = User.objects.get(username="bob")
    assert not bob.is_active
    (message,) = mailoutbox
    assert message.to == ["bob@example.com"]
    assert message.subject == "Confirm your email address for Passage"
    assert verify_link_from(message)
    done = any_client.get(reverse("signup_done"))
    assert b"Check your email" in done.content


def test_an_unconfirmed_account_can_neither_log_in_nor_get_a_reset_link(client, db, mailoutbox):
    signup(client)

    login = client.post(reverse("login"), {"username": "bob", "password": PASSWORD})
    client.post(reverse("password_reset"), {"email": "bob@example.com"})

    assert login.status_code == HTTPStatus.OK
    assert "_auth_user_id" not in client.session
    assert [m.subject for m in mailoutbox] == ["Confirm your email address for Passage"]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_an_address_with_an_account_is_answered_exactly_like_a_new_one(
    db, user, mailoutbox, htmx, monkeypatch
):
    headers = {"HX-Request": "true"} if htmx else {}
    hashed = []
    original = User.set_password
    monkeypatch.setattr(
        User, "set_password", lambda self, raw: hashed.append(raw) or original(self, raw)
    )
    answers = {}
    for name, email in (("new", "bob@example.com"), ("taken", "ALICE@example.com")):
        client = Client()
        response = signup(client, username=f"{name}-user", email=email, **headers)
        answers[name] = (response, client.get(reverse("signup_done"), headers=headers))

    (new, new_done), (taken, taken_done) = answers.values()
    assert new.status_code == taken.status_code
    assert dict(new.items()).keys() == dict(taken.items()).keys()
    assert new.get("Location") == taken.get("Location")
    assert new.get("HX-Location") == taken.get("HX-Location")
    assert comparable(new.content) == comparable(taken.content)
    assert comparable(new_done.content) == comparable(taken_done.content)
    assert b"already exists" not in taken.content + taken_done.content
    assert hashed == [PASSWORD, PASSWORD]  # the same work either way
    # No second account; the owner hears of it, in the email only they can read.
    assert not User.objects.filter(username="taken-user").exists()
    notice = next(m for m in mailoutbox if m.to == [user.email])
    assert notice.subject == "Someone tried to sign up to Passage with your address"
    assert "log in with your username, alice" in notice.body
    assert "/accounts/password_reset/" in notice.body


def test_a_taken_username_is_a_plain_form_error(client, user, mailoutbox):
    response = signup(client, username="alice", email="new@example.com")

    assert response.status_code == HTTPStatus.OK
    assert b"A user with that username already exists." in response.content
    assert mailoutbox == []


def test_signing_up_again_before_confirming_sends_a_fresh_link(client, db, mailoutbox):
    signup(client)
    signup(client, username="bob2", email="BOB@example.com")

    assert [m.subject for m in mailoutbox] == ["Confirm your email address for Passage"] * 2
    assert User.objects.count() == 1


@pytest.fixture
def verify_path(client, db, mailoutbox) -> str:
    signup(client)
    return verify_link_from(mailoutbox[0])


def test_the_link_leaves_the_url_and_confirms_only_on_a_post(client, verify_path):
    token = verify_path.rstrip("/").rsplit("/", 1)[1]

    first = client.get(verify_path)
    confirm_url = first["Location"]
    page = client.get(confirm_url)

    assert first.status_code == HTTPStatus.FOUND
    assert token not in confirm_url
    assert first["Referrer-Policy"] == "no-referrer"
    cookie = first.cookies["verify_token"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert not cookie["max-age"]
    assert cookie["path"] == verify_path.rstrip("/").rsplit("/", 1)[0] + "/"
    for session in Session.objects.all():
        assert token not in session.session_data
    assert b"Confirm your email address" in page.content
    assert not User.objects.get(username="bob").is_active  # a GET confirms nothing


@pytest.mark.parametrize("mode", ["page", "htmx"])
def test_confirming_activates_logs_in_and_spends_the_link(client, verify_path, mode):
    headers = {"HX-Request": "true"} if mode == "htmx" else {}
    confirm_url = client.get(verify_path)["Location"]

    done = client.post(confirm_url, headers=headers)

    target = done["HX-Redirect"] if mode == "htmx" else done["Location"]
    assert target == reverse("home")
    assert User.objects.get(username="bob").is_active
    assert b"Your email address is confirmed. Welcome, bob!" in client.get(target).content
    again = Client().get(verify_path, follow=True)
    assert b"This link can&#x27;t be used" in again.content


def test_an_expired_confirmation_link_cannot_be_used(client, verify_path, settings):
    from datetime import datetime, timedelta
    from unittest import mock

    from auth_flow.tokens import EmailVerificationTokenGenerator

    settings.PASSWORD_RESET_TIMEOUT = 60
    later = datetime.now() + timedelta(seconds=61)
    with mock.patch.object(EmailVerificationTokenGenerator, "_now", return_value=later):
        response = client.get(verify_path)

    assert b"This link can&#x27;t be used" in response.content
    assert not User.objects.get(username="bob").is_active


@pytest.mark.parametrize("junk", ["junk/junk", "MQ/confirm", "\u2603/x", "A" * 3000 + "/B"])
def test_junk_confirmation_links_get_the_friendly_page(client, db, junk):
    response = client.get(f"/accounts/verify/{junk}/")
    posted = client.post(f"/accounts/verify/{junk}/")

    assert response.status_code == posted.status_code == HTTPStatus.OK
    assert b"This link can&#x27;t be used" in response.content + posted.content


def test_a_reset_token_does_not_confirm_an_account(client, db, mailoutbox):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    signup(client)
    bob = User.objects.get(username="bob")
    uid = urlsafe_base64_encode(force_bytes(bob.pk))
    response = client.get(f"/accounts/verify/{uid}/{default_token_generator.make_token(bob)}/")

    assert b"This link can&#x27;t be used" in response.content


# Two sign-ups at once, against a real server ----------------------------------------


def signup_from_a_browser(live_server, *, username: str, email: str):
    session = requests.Session()
    url = live_server.url + reverse("signup")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', session.get(url).text)
    data = {
        "username": username,
        "email": email,
        "password1": PASSWORD,
        "password2": PASSWORD,
        "csrfmiddlewaretoken": token.group(1),
    }
    return lambda: session.post(url, data, headers={"Referer": url}, allow_redirects=False)


@pytest.mark.parametrize("trial", range(3))
def test_two_signups_with_one_username_at_once_never_crash(
    live_server, transactional_db, settings, trial
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    answers = at_once(
        signup_from_a_browser(live_server, username="twin", email="one@example.com"),
        signup_from_a_browser(live_server, username="twin", email="two@example.com"),
    )

    assert sorted(a.status_code for a in answers) == [HTTPStatus.OK, HTTPStatus.FOUND]
    (refused,) = [a for a in answers if a.status_code == HTTPStatus.OK]
    assert "A user with that username already exists." in refused.text
    assert User.objects.filter(username="twin").count() == 1


@pytest.mark.parametrize("trial", range(3))
def test_two_signups_with_one_address_at_once_get_the_same_answer(
    live_server, transactional_db, settings, mailoutbox, trial
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    answers = at_once(
        signup_from_a_browser(live_server, username="first", email="same@example.com"),
        signup_from_a_browser(live_server, username="second", email="SAME@example.com"),
    )

    assert [a.status_code for a in answers] == [HTTPStatus.FOUND, HTTPStatus.FOUND]
    assert User.objects.filter(email_canonical="same@example.com").count() == 1
    assert len(mailoutbox) == 2  # a link for the new account; a fresh one for the loser
