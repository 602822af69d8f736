"""Log-in limits hold on every authentication path, and say nothing about accounts."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from auth_flow.models import User

ADMIN_PASSWORD = "the-admins-passphrase-81"


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
