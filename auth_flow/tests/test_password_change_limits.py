"""Wrong old passwords on the change-password page and API are limited per account."""

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from auth_flow.tests.conftest import PASSWORD

NEW = "a-fresh-passphrase-42"


def page_change(client: Client, *, old: str, ip: str = "198.51.100.1"):
    return client.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": NEW, "new_password2": NEW},
        REMOTE_ADDR=ip,
    )


def api_change(client: Client, csrf: str, *, old: str, ip: str = "198.51.100.1"):
    return client.post(
        reverse("api_password_change"),
        {"old_password": old, "new_password": NEW},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=csrf,
        REMOTE_ADDR=ip,
    )


@pytest.fixture
def page_client(any_client: Client, user) -> Client:
    any_client.force_login(user)
    return any_client


def test_the_page_refuses_wrong_old_passwords_past_the_limit(page_client, mode, user):
    answers = [page_change(page_client, old=f"guess-{n}", ip=f"203.0.113.{n}") for n in range(15)]

    assert [a.status_code for a in answers] == [HTTPStatus.OK] * 5 + [
        HTTPStatus.TOO_MANY_REQUESTS
    ] * 10
    refused = answers[-1]
    assert int(refused["Retry-After"]) > 0
    assert "try again in 15 minutes" in refused.content.decode()
    assert (b"<html" in refused.content) == (mode == "page")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_at_the_limit_even_the_right_old_password_waits(page_client, user):
    for n in range(5):
        page_change(page_client, old=f"guess-{n}", ip=f"203.0.113.{n}")

    response = page_change(page_client, old=PASSWORD, ip="192.0.2.1")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_below_the_limit_the_right_old_password_changes_it(page_client, user):
    for n in range(4):
        page_change(page_client, old=f"guess-{n}")

    response = page_change(page_client, old=PASSWORD)

    assert response.status_code in {HTTPStatus.FOUND, HTTPStatus.OK}
    user.refresh_from_db()
    assert user.check_password(NEW)


def test_the_api_refuses_wrong_old_passwords_past_the_limit(api_logged_in, user):
    client, csrf = api_logged_in

    answers = [api_change(client, csrf, old=f"guess-{n}", ip=f"203.0.113.{n}") for n in range(6)]
    right = api_change(client, csrf, old=PASSWORD)

    assert [a.status_code for a in answers] == [HTTPStatus.BAD_REQUEST] * 5 + [
        HTTPStatus.TOO_MANY_REQUESTS
    ]
    for refused in (answers[-1], right):
        assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
        assert int(refused["Retry-After"]) > 0
        assert refused.json()["detail"].endswith("try again in 15 minutes.")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_the_page_and_the_api_share_one_count(page_client, api_logged_in, user):
    client, csrf = api_logged_in
    for n in range(3):
        page_change(page_client, old=f"guess-{n}")
    for n in range(2):
        api_change(client, csrf, old=f"guess-{n}")

    assert page_change(page_client, old=PASSWORD).status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert api_change(client, csrf, old=PASSWORD).status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_the_limit_follows_the_log_in_failures_setting(page_client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_failures": "2/120"}
    answers = [page_change(page_client, old=f"guess-{n}") for n in range(3)]

    assert answers[-1].status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "try again in 2 minutes" in answers[-1].content.decode()
