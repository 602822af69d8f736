"""Log-in limits hold on every authentication path, and say nothing about accounts."""

from http import HTTPStatus

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import signing
from django.test import Client
from django.urls import reverse

from auth_flow.models import User

ADMIN_PASSWORD = "the-admins-passphrase-81"
NEW = "a-fresh-passphrase-42"
# The cookie's name, spelled out: importing it would fail before the cookie existed.
DEVICE_COOKIE = "device"


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("root", "root@example.com", ADMIN_PASSWORD)


def admin_login(client, *, username: str, password: str, ip: str = "198.51.100.1"):
    return client.post(
        reverse("admin:login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def site_login(client, *, username: str, password: str, ip: str = "198.51.100.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_the_admin_login_locks_an_account_after_five_failures(client, superuser):
    # Each guess from another network: the per-account limit does not care.
    for guess in range(5):
        admin_login(client, username="root", password=f"guess-{guess}", ip=f"203.0.113.{guess}")

    refused = admin_login(client, username="root", password=ADMIN_PASSWORD, ip="192.0.2.1")

    assert refused.status_code == HTTPStatus.OK
    assert "_auth_user_id" not in client.session
    assert "Too many attempts to log in with this username" in refused.content.decode()
    assert "try again in 15 minutes" in refused.content.decode()


def test_the_admin_login_is_limited_per_ip(client, superuser, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "3/900"}
    for name in ("a", "b", "c"):
        admin_login(client, username=name, password="x")

    refused = admin_login(client, username="root", password=ADMIN_PASSWORD)

    assert "_auth_user_id" not in client.session
    assert "Too many attempts to log in from your network" in refused.content.decode()


@pytest.mark.parametrize("identifier", ["alice", "nobody-here", "nobody@example.com"])
def test_an_unknown_identifier_is_locked_exactly_like_a_known_one(client, user, identifier):
    answers = [
        site_login(client, username=identifier, password="wrong", ip=f"203.0.113.{n}")
        for n in range(6)
    ]

    assert [a.status_code for a in answers] == [HTTPStatus.OK] * 5 + [HTTPStatus.TOO_MANY_REQUESTS]
    assert int(answers[-1]["Retry-After"]) > 0
    assert "try again in 15 minutes" in answers[-1].content.decode()


def test_only_failures_count_and_a_success_clears_them(client, user, password):
    for _ in range(4):
        site_login(client, username="alice", password="wrong")
    assert site_login(client, username="alice", password=password).status_code == (
        HTTPStatus.FOUND
    )
    client.logout()
    for _ in range(4):
        site_login(client, username="alice", password="wrong")

    assert site_login(client, username="alice", password=password).status_code == (
        HTTPStatus.FOUND
    )


def test_a_username_with_an_at_sign_can_still_log_in(client, db):
    User.objects.create_user("bob@home", "bob@example.com", "a-good-passphrase-77")

    response = site_login(client, username="bob@home", password="a-good-passphrase-77")

    assert response.status_code == HTTPStatus.FOUND
    assert client.session["_auth_user_id"]


def test_signup_refuses_an_at_sign_in_the_username(client, db):
    response = client.post(
        reverse("signup"),
        {
            "username": "carol@work",
            "email": "carol@example.com",
            "password1": "a-good-passphrase-77",
            "password2": "a-good-passphrase-77",
        },
    )

    assert "Usernames can&#x27;t contain @" in response.content.decode()
    assert not User.objects.exists()


# --- Device cookies: strangers' guesses cannot lock the owner's browser out -----------

OWNER_IP = "192.0.2.10"


def strangers_guess(*, username: str, count: int = 5) -> None:
    """Fail to log in as this identifier from as many browsers and networks."""
    for guess in range(count):
        site_login(Client(), username=username, password=f"guess-{guess}", ip=f"203.0.113.{guess}")


def logged_in_browser(*, login, username: str, password: str) -> Client:
    """Return a browser that has logged in once (so holds the device cookie) and out."""
    browser = Client()
    assert login(browser, username=username, password=password).status_code == HTTPStatus.FOUND
    browser.post(reverse("logout"))
    assert SESSION_KEY not in browser.session
    return browser


@pytest.mark.parametrize("login", [site_login, admin_login], ids=["site", "admin"])
def test_a_browser_that_logged_in_before_is_not_locked_out_by_strangers(superuser, login):
    browser = logged_in_browser(login=login, username="root", password=ADMIN_PASSWORD)
    strangers_guess(username="root")

    response = login(browser, username="root", password=ADMIN_PASSWORD, ip=OWNER_IP)

    assert response.status_code == HTTPStatus.FOUND
    assert browser.session[SESSION_KEY] == str(superuser.pk)


@pytest.mark.parametrize("login", [site_login, admin_login], ids=["site", "admin"])
def test_a_browser_without_the_device_cookie_is_locked_out(superuser, login):
    strangers_guess(username="root")
    browser = Client()

    response = login(browser, username="root", password=ADMIN_PASSWORD, ip=OWNER_IP)

    assert SESSION_KEY not in browser.session
    assert "Too many attempts to log in with this username" in response.content.decode()


def test_the_device_cookie_is_set_at_log_in_and_kept_at_log_out(any_client, user, password):
    any_client.post(reverse("login"), {"username": "alice", "password": password})
    cookie = any_client.cookies[DEVICE_COOKIE]
    logout = any_client.post(reverse("logout"))

    assert cookie.value
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 365 * 24 * 60 * 60
    assert cookie["path"] == "/"
    assert DEVICE_COOKIE not in logout.cookies  # neither deleted nor replaced
    assert any_client.cookies[DEVICE_COOKIE].value == cookie.value


def test_the_device_cookie_is_secure_when_sessions_are(client, user, password, settings):
    settings.SESSION_COOKIE_SECURE = True

    site_login(client, username="alice", password=password)

    assert client.cookies[DEVICE_COOKIE]["secure"]


def test_a_device_cookie_vouches_only_for_its_own_account(client, user, password):
    User.objects.create_user("bob", "bob@example.com", password)
    browser = logged_in_browser(login=site_login, username="alice", password=password)
    strangers_guess(username="alice")
    strangers_guess(username="bob")

    as_bob = site_login(browser, username="bob", password=password, ip=OWNER_IP)
    assert as_bob.status_code == HTTPStatus.TOO_MANY_REQUESTS
    as_alice = site_login(browser, username="alice", password=password, ip=OWNER_IP)
    assert as_alice.status_code == HTTPStatus.FOUND


def test_one_browser_keeps_device_cookies_for_several_accounts(user, password):
    User.objects.create_user("bob", "bob@example.com", password)
    browser = logged_in_browser(login=site_login, username="alice", password=password)
    site_login(browser, username="bob", password=password)
    browser.post(reverse("logout"))
    strangers_guess(username="alice")
    strangers_guess(username="bob")

    for name in ("alice", "bob"):
        assert site_login(browser, username=name, password=password).status_code == (
            HTTPStatus.FOUND
        )
        browser.post(reverse("logout"))


@pytest.mark.parametrize("forge", ["tampered", "unsigned", "other-salt"])
def test_a_forged_device_cookie_is_not_trusted(user, password, forge):
    browser = logged_in_browser(login=site_login, username="alice", password=password)
    genuine = browser.cookies[DEVICE_COOKIE].value
    strangers_guess(username="alice")
    forged = {
        "tampered": genuine.replace(":", ":X", 1),  # one letter more in the nonce
        "unsigned": f"{user.pk}:some-nonce",
        "other-salt": signing.get_cookie_signer(salt=DEVICE_COOKIE + "x").sign(
            f"{user.pk}:some-nonce"
        ),
    }[forge]
    stranger = Client()
    stranger.cookies[DEVICE_COOKIE] = forged

    refused = site_login(stranger, username="alice", password=password, ip=OWNER_IP)
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    # The genuine one still vouches for its browser.
    assert site_login(browser, username="alice", password=password).status_code == (
        HTTPStatus.FOUND
    )


def test_five_failures_from_a_trusted_browser_lock_that_browser_alone(user, password):
    mine = logged_in_browser(login=site_login, username="alice", password=password)
    other = logged_in_browser(login=site_login, username="alice", password=password)
    for guess in range(5):
        assert site_login(mine, username="alice", password=f"typo-{guess}").status_code == (
            HTTPStatus.OK
        )

    locked = site_login(mine, username="alice", password=password)
    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Too many failed attempts to log in from this browser" in locked.content.decode()
    assert int(locked["Retry-After"]) > 0
    # Another browser of the owner's, and the identifier for untrusted clients, are free.
    assert site_login(other, username="alice", password=password).status_code == (HTTPStatus.FOUND)
    assert site_login(Client(), username="alice", password=password).status_code == (
        HTTPStatus.FOUND
    )


def test_a_trusted_browser_is_not_locked_out_by_its_networks_failures(user, password):
    browser = logged_in_browser(login=site_login, username="alice", password=password)
    for n in range(20):
        site_login(Client(), username=f"nobody-{n}", password="x", ip=OWNER_IP)

    assert site_login(Client(), username="alice", password=password, ip=OWNER_IP).status_code == (
        HTTPStatus.TOO_MANY_REQUESTS
    )
    assert site_login(browser, username="alice", password=password, ip=OWNER_IP).status_code == (
        HTTPStatus.FOUND
    )


def test_a_completed_reset_lifts_the_lock_on_the_username_and_the_email(client, user, reset_path):
    for identifier in ("alice", "ALICE@example.com"):
        strangers_guess(username=identifier)
    assert site_login(Client(), username="alice", password="x").status_code == (
        HTTPStatus.TOO_MANY_REQUESTS
    )

    set_password = client.get(reset_path)["Location"]
    done = client.post(set_password, {"new_password1": NEW, "new_password2": NEW})
    assert done["Location"] == reverse("password_reset_complete")

    for identifier in ("alice", "alice@example.com"):
        browser = Client()
        response = site_login(browser, username=identifier, password=NEW, ip=OWNER_IP)
        assert response.status_code == HTTPStatus.FOUND
        assert browser.session[SESSION_KEY] == str(user.pk)


# --- Per-IP limit: failures only, and IPv6 by its /64 ----------------------------------


def test_only_failed_log_ins_count_against_the_ip(user, password):
    successes = [
        site_login(Client(), username="alice", password=password, ip=OWNER_IP) for _ in range(25)
    ]
    failures = [
        site_login(Client(), username=f"nobody-{n}", password="x", ip=OWNER_IP) for n in range(21)
    ]

    assert {r.status_code for r in successes} == {HTTPStatus.FOUND}
    assert [r.status_code for r in failures] == [HTTPStatus.OK] * 20 + [
        HTTPStatus.TOO_MANY_REQUESTS
    ]
    assert "Too many attempts to log in from your network" in failures[-1].content.decode()


def test_failed_log_ins_from_one_ipv6_64_share_one_count(db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    answers = [
        Client().post(
            reverse("login"),
            {"username": f"nobody-{n}", "password": "x"},
            headers={"X-Forwarded-For": f"2001:db8:7:8:{n:x}::1"},
        )
        for n in range(21)
    ]

    assert [a.status_code for a in answers] == [HTTPStatus.OK] * 20 + [
        HTTPStatus.TOO_MANY_REQUESTS
    ]


# --- Found by the attacker's review of the first version ------------------------------


@pytest.mark.parametrize("trial", range(2))
def test_parallel_guesses_cannot_slip_past_the_lock(
    live_server, transactional_db, settings, monkeypatch, trial
):
    import re
    import time

    import requests

    from auth_flow.accounts.backends import UsernameOrEmailBackend
    from auth_flow.tests.conftest import at_once

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    User.objects.create_user("alice", "alice@example.com", "the-real-one-1234")
    check = UsernameOrEmailBackend.authenticate_identifier

    def slow_check(self, *args, **kwargs):
        time.sleep(0.3)  # as long as a real Argon2 check on a busy server
        return check(self, *args, **kwargs)

    monkeypatch.setattr(UsernameOrEmailBackend, "authenticate_identifier", slow_check)
    url = live_server.url + reverse("login")

    def guess(n: int):
        session = requests.Session()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', session.get(url).text)
        data = {"username": "alice", "password": f"guess-{n}"}
        data["csrfmiddlewaretoken"] = token.group(1)
        return lambda: session.post(url, data, headers={"Referer": url}, allow_redirects=False)

    answers = at_once(*(guess(n) for n in range(12)))

    # Before, every guess read the count before any had added to it: all 12 were checked.
    checked = [a for a in answers if a.status_code == HTTPStatus.OK]
    assert len(checked) == 5
    assert all(a.status_code == HTTPStatus.TOO_MANY_REQUESTS for a in answers if a not in checked)


def test_a_password_reset_ends_the_trust_of_browsers_that_logged_in_before(
    client, user, password, mailoutbox
):
    from auth_flow.tests.conftest import reset_link_from

    # A browser that logged in with a stolen password is trusted no longer than it works.
    thief = logged_in_browser(login=site_login, username="alice", password=password)
    client.post(reverse("password_reset"), {"email": user.email})
    set_password = client.get(reset_link_from(mailoutbox[-1]))["Location"]
    client.post(set_password, {"new_password1": NEW, "new_password2": NEW})
    owner = logged_in_browser(login=site_login, username="alice", password=NEW)
    strangers_guess(username="alice")

    guess = site_login(thief, username="alice", password="one-more-guess")

    # Before, the thief's browser stayed trusted: its guesses were still checked.
    assert guess.status_code == HTTPStatus.TOO_MANY_REQUESTS
    # The owner's browser, which logged in with the new password, is trusted.
    assert site_login(owner, username="alice", password=NEW).status_code == HTTPStatus.FOUND


@pytest.mark.parametrize(
    "look_alike",
    ["Alice", "ALICE", "\uff41\uff4c\uff49\uff43\uff45"],
    ids=["title", "upper", "fw"],
)
def test_nobody_can_register_a_look_alike_of_an_existing_username(client, user, look_alike):
    from django.db import IntegrityError

    response = client.post(
        reverse("signup"),
        {
            "username": look_alike,
            "email": "mallory@example.com",
            "password1": "a-good-passphrase-77",
            "password2": "a-good-passphrase-77",
        },
    )

    assert response.status_code == HTTPStatus.OK
    assert b"A user with that username already exists." in response.content
    with pytest.raises(IntegrityError):
        User.objects.create_user(look_alike, "other@example.com", "x")
