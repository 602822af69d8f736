"""The JSON API, in each client's field names: DRPR, dj-rest-auth and djoser."""

from functools import partial
from http import HTTPStatus

import pytest
import requests
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from auth_flow.models import User
from auth_flow.tests.conftest import PASSWORD, at_once
from auth_flow.tests.test_tasks import queue  # noqa: F401
from site_config.settings import reset_url_template_check

NEW = "a-fresh-passphrase-42"


@pytest.fixture
def api(db) -> Client:
    # enforce_csrf_checks: the API must work without Django's test-client exemption.
    return Client(enforce_csrf_checks=True)


def post(client: Client, name: str, data: dict, **extra):
    return client.post(reverse(name), data, content_type="application/json", **extra)


def key_from(message) -> str:
    """Return the key of an email sent with the frontend template below."""
    (line,) = [line for line in message.body.splitlines() if "app.example.com" in line]
    return line.strip().removeprefix("https://app.example.com/reset?key=")


@pytest.fixture
def frontend(settings):
    settings.PASSWORD_RESET_CONFIRM_URL = "https://app.example.com/reset?key={key}"


@pytest.fixture
def key(api, user, frontend, mailoutbox) -> str:
    response = post(api, "api_password_reset", {"email": user.email})
    assert response.status_code == HTTPStatus.OK
    (message,) = mailoutbox
    return key_from(message)


# --- reset/ --------------------------------------------------------------------------


def test_a_reset_request_answers_any_address_alike_and_queues_one_email(
    api,
    user,
    queue,  # noqa: F811
    settings,
):
    settings.PASSWORD_RESET_CONFIRM_URL = ""
    answers = []
    for email in (user.email, "nobody@example.com"):
        with CaptureQueriesContext(connection) as queries:
            response = post(api, "api_password_reset", {"email": email})
        answers.append((response.status_code, response.json(), len(queries)))

    (known, unknown) = answers
    assert known == unknown
    assert known[0] == HTTPStatus.OK
    assert known[1]["status"] == "OK"
    assert queue.count() == 2  # both only queued; the worker decides who gets mail
    assert all("auth_flow_user" not in q["sql"] for q in queries.captured_queries)


def test_a_reset_request_emails_a_link_built_from_the_frontend_template(
    api, user, frontend, mailoutbox, settings
):
    settings.ALLOWED_HOSTS = ["evil.example"]  # even a Host the site answers to
    response = post(api, "api_password_reset", {"email": user.email}, HTTP_HOST="evil.example")

    assert response.status_code == HTTPStatus.OK
    (message,) = mailoutbox
    assert "evil.example" not in message.body
    uid, _, token = key_from(message).partition(".")
    assert uid
    assert token


@pytest.mark.parametrize("body", [{"email": "not-an-address"}, {"email": ""}, {}, {"x": 1}])
def test_a_malformed_address_is_a_400_with_the_field(api, body):
    response = post(api, "api_password_reset", body)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()) == ["email"]


def test_a_malformed_body_is_a_400_not_a_500(api):
    response = api.post(
        reverse("api_password_reset"), "{not json", content_type="application/json"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "detail" in response.json()


def test_reset_requests_past_the_rate_limit_get_429_with_retry_after(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset": "2/900"}

    codes = [post(api, "api_password_reset", {"email": "a@example.com"}) for _ in range(3)]

    assert [r.status_code for r in codes] == [200, 200, HTTPStatus.TOO_MANY_REQUESTS]
    assert codes[-1]["Retry-After"] == "900"
    assert "detail" in codes[-1].json()


def test_the_api_and_the_page_share_one_reset_limit_per_ip(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset": "1/900"}
    Client().post(reverse("password_reset"), {"email": "a@example.com"})

    response = post(api, "api_password_reset", {"email": "a@example.com"})

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_api_resets_from_one_ipv6_64_share_one_count(api, settings):
    settings.TRUSTED_PROXY_COUNT = 1

    codes = [
        post(
            api,
            "api_password_reset",
            {"email": "a@example.com"},
            headers={"X-Forwarded-For": f"2001:db8:aa:bb::{n:x}"},
        ).status_code
        for n in range(1, 12)
    ]
    other = post(
        api,
        "api_password_reset",
        {"email": "a@example.com"},
        headers={"X-Forwarded-For": "2001:db8:aa:bc::1"},
    )

    assert codes == [HTTPStatus.OK] * 10 + [HTTPStatus.TOO_MANY_REQUESTS]
    assert other.status_code == HTTPStatus.OK


def test_a_page_reset_and_an_api_reset_send_the_same_email(api, user, frontend, mailoutbox):
    Client().post(reverse("password_reset"), {"email": user.email})
    post(api, "api_password_reset", {"email": user.email})

    page, api_sent = mailoutbox
    assert page.subject == api_sent.subject
    assert key_from(page).split(".")[0] == key_from(api_sent).split(".")[0]


# --- reset/validate_token/ ---------------------------------------------------------


def test_a_valid_key_validates_in_both_shapes(api, key):
    uid, _, token = key.partition(".")

    as_key = post(api, "api_password_reset_validate", {"token": key})
    as_pair = post(api, "api_password_reset_validate", {"uid": uid, "token": token})

    assert as_key.status_code == as_pair.status_code == HTTPStatus.OK
    assert as_key.json() == as_pair.json() == {"status": "OK"}


@pytest.mark.parametrize(
    "token", ["", "nonsense", "MQ.abc-def", "x" * 200, "....", "é.ü", "%00.%00"]
)
def test_a_junk_key_is_404_or_400_never_500(api, db, token):
    response = post(api, "api_password_reset_validate", {"token": token})

    assert response.status_code in {HTTPStatus.NOT_FOUND, HTTPStatus.BAD_REQUEST}
    assert response.status_code != HTTPStatus.BAD_REQUEST or "token" in response.json()


def test_a_used_key_no_longer_validates(api, key):
    post(api, "api_password_reset_confirm", {"token": key, "new_password": NEW})

    response = post(api, "api_password_reset_validate", {"token": key})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "detail" in response.json()


# --- reset/confirm/ ----------------------------------------------------------------


def confirm_bodies(key: str) -> dict[str, dict]:
    uid, _, token = key.partition(".")
    return {
        "site": {"token": key, "new_password": NEW},
        "drpr": {"token": key, "password": NEW},
        "dj-rest-auth": {"uid": uid, "token": token, "new_password1": NEW, "new_password2": NEW},
        "djoser": {"uid": uid, "token": token, "new_password": NEW, "re_new_password": NEW},
    }


@pytest.mark.parametrize("shape", ["site", "drpr", "dj-rest-auth", "djoser"])
def test_confirm_sets_the_password_once_in_each_clients_shape(api, key, user, shape, mailoutbox):
    body = confirm_bodies(key)[shape]

    first = post(api, "api_password_reset_confirm", body)
    again = post(api, "api_password_reset_confirm", body)

    assert first.status_code == HTTPStatus.OK
    assert first.json()["status"] == "OK"
    user.refresh_from_db()
    assert user.check_password(NEW)
    if shape == "drpr":
        assert again.status_code == HTTPStatus.NOT_FOUND
        assert list(again.json()) == ["detail"]
    else:
        assert again.status_code == HTTPStatus.BAD_REQUEST
        assert list(again.json()) == ["token"]
    assert [m.subject for m in mailoutbox][-1] == "Your Passage password was changed"
    assert SESSION_KEY not in api.session  # no automatic log-in


@pytest.mark.parametrize(
    ("shape", "field"),
    [
        ("site", "new_password"),
        ("drpr", "password"),
        ("dj-rest-auth", "new_password2"),
        ("djoser", "re_new_password"),
    ],
)
def test_password_errors_are_keyed_by_the_field_the_client_sent(api, key, user, shape, field):
    body = confirm_bodies(key)[shape]
    weak = {name: ("123" if "password" in name else value) for name, value in body.items()}
    if shape in {"dj-rest-auth", "djoser"}:
        weak[field] = "something-else-entirely-9"

    response = post(api, "api_password_reset_confirm", weak)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    errors = response.json()
    if shape in {"dj-rest-auth", "djoser"}:
        # The rules' errors under the new password, the mismatch under the confirmation.
        new = "new_password1" if shape == "dj-rest-auth" else "new_password"
        assert set(errors) == {new, field}
        assert any("too short" in message for message in errors[new])
        assert all("match" in message for message in errors[field])
    else:
        assert list(errors) == [field]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_confirm_without_a_new_password_names_the_field(api, key):
    response = post(api, "api_password_reset_confirm", {"token": key})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()) == ["new_password"]


def test_a_confirmed_reset_lifts_the_log_in_lock(api, key, user):
    def log_in(identifier: str, password: str, n: int):
        return Client().post(
            reverse("login"),
            {"username": identifier, "password": password},
            REMOTE_ADDR=f"203.0.113.{n}",
        )

    for identifier in ("alice", user.email):
        for n in range(5):
            log_in(identifier, "guess", n)
    assert log_in("alice", PASSWORD, 9).status_code == HTTPStatus.TOO_MANY_REQUESTS

    confirmed = post(api, "api_password_reset_confirm", {"token": key, "new_password": NEW})

    assert confirmed.status_code == HTTPStatus.OK
    assert log_in("alice", NEW, 9).status_code == HTTPStatus.FOUND
    assert log_in(user.email, NEW, 9).status_code == HTTPStatus.FOUND


def test_confirm_ends_the_accounts_sessions(api, user, frontend, mailoutbox):
    other = Client()
    other.force_login(user)  # before the key: logging in changes what a token is made of
    assert other.get(reverse("home")).context["user"].is_authenticated
    post(api, "api_password_reset", {"email": user.email})

    response = post(
        api, "api_password_reset_confirm", {"token": key_from(mailoutbox[0]), "new_password": NEW}
    )

    assert response.status_code == HTTPStatus.OK
    assert not other.get(reverse("home")).context["user"].is_authenticated


def confirm_status(url: str, key: str, password: str) -> int:
    return requests.post(
        url, json={"token": key, "new_password": password}, timeout=10
    ).status_code


def test_two_confirms_with_one_key_at_once_give_exactly_one_200(
    live_server, transactional_db, settings, mailoutbox
):
    settings.PASSWORD_RESET_CONFIRM_URL = "https://app.example.com/reset?key={key}"
    user = User.objects.create_user("rita", "rita@example.com", PASSWORD)
    url = live_server.url + reverse("api_password_reset")
    for trial in range(3):
        mailoutbox.clear()
        requests.post(url, json={"email": user.email}, timeout=10).raise_for_status()
        key = key_from(mailoutbox[0])
        confirm = live_server.url + reverse("api_password_reset_confirm")

        codes = at_once(
            partial(confirm_status, confirm, key, f"first-{trial}-passphrase"),
            partial(confirm_status, confirm, key, f"second-{trial}-passphrase"),
        )

        assert sorted(codes) == [HTTPStatus.OK, HTTPStatus.BAD_REQUEST]
        notices = [m for m in mailoutbox if "changed" in m.subject]
        assert len(notices) == 1


# --- change/ -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"old_password": PASSWORD, "new_password": NEW},
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
        {"current_password": PASSWORD, "new_password": NEW, "re_new_password": NEW},
    ],
    ids=["site", "dj-rest-auth", "djoser"],
)
def test_change_keeps_this_session_ends_the_others_and_emails(
    api_logged_in, user, body, mailoutbox
):
    client, csrf = api_logged_in
    other = Client()
    other.force_login(user)

    response = post(client, "api_password_change", body, HTTP_X_CSRFTOKEN=csrf)

    assert response.status_code == HTTPStatus.OK
    assert "detail" in response.json()
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert client.get(reverse("home")).context["user"].is_authenticated
    assert not other.get(reverse("home")).context["user"].is_authenticated
    assert [m.subject for m in mailoutbox] == ["Your Passage password was changed"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"old_password": "wrong", "new_password": NEW}, "old_password"),
        ({"current_password": "wrong", "new_password": NEW}, "current_password"),
        ({"old_password": PASSWORD, "new_password": "123"}, "new_password"),
        ({"old_password": PASSWORD, "new_password1": NEW, "new_password2": "x"}, "new_password2"),
        ({"old_password": PASSWORD}, "new_password"),
        ({"new_password1": NEW}, "old_password"),  # schemathesis found this one a 500
    ],
)
def test_change_errors_are_keyed_by_the_field_the_client_sent(api_logged_in, user, body, field):
    client, csrf = api_logged_in

    response = post(client, "api_password_change", body, HTTP_X_CSRFTOKEN=csrf)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_change_needs_a_session_and_a_csrf_token(api, api_logged_in):
    client, _ = api_logged_in
    body = {"old_password": PASSWORD, "new_password": NEW}

    anonymous = post(api, "api_password_change", body)
    no_csrf = post(client, "api_password_change", body)

    assert anonymous.status_code == HTTPStatus.FORBIDDEN
    assert no_csrf.status_code == HTTPStatus.FORBIDDEN
    assert "detail" in anonymous.json()
    assert "CSRF" in no_csrf.json()["detail"]


def test_change_is_rate_limited_per_user(api_logged_in, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_change": "2/900"}
    client, csrf = api_logged_in
    body = {"old_password": "wrong", "new_password": NEW}

    codes = [
        post(client, "api_password_change", body, HTTP_X_CSRFTOKEN=csrf, REMOTE_ADDR=f"10.0.0.{n}")
        for n in range(3)
    ]

    assert [r.status_code for r in codes] == [400, 400, HTTPStatus.TOO_MANY_REQUESTS]
    assert codes[-1]["Retry-After"]


# --- settings, schema --------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    [
        "http://app.example.com/reset?key={key}",
        "/reset?key={key}",
        "https://app.example.com/reset?key={email}",
        "https://app.example.com/reset/{uid}",
        "https://app.example.com/reset?key={key",
        "https://app.example.com/reset?key={0}",
    ],
)
def test_a_bad_frontend_template_stops_start_up_naming_the_variable(template):
    with pytest.raises(ImproperlyConfigured, match="PASSWORD_RESET_CONFIRM_URL"):
        reset_url_template_check(template)


@pytest.mark.parametrize(
    "template",
    [
        "https://app.example.com/reset?key={key}",
        "https://app.example.com/reset/{uid}/{token}",
        "http://127.0.0.1:3000/reset#{key}",
    ],
)
def test_good_frontend_templates_are_accepted(template):
    assert reset_url_template_check(template) == template


def test_the_schema_validates_and_documents_every_status(api):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
    schema = api.get(reverse("api_schema"), HTTP_ACCEPT="application/json").json()
    documented = {
        path: set(operation["post"]["responses"]) for path, operation in schema["paths"].items()
    }
    assert documented == {
        "/api/auth/password/reset/": {"200", "400", "429"},
        "/api/auth/password/reset/validate_token/": {"200", "400", "404", "429"},
        "/api/auth/password/reset/confirm/": {"200", "400", "404", "429"},
        "/api/auth/password/change/": {"200", "400", "403", "429"},
    }


def test_the_docs_page_loads_its_assets_from_this_site(api):
    response = api.get(reverse("api_docs"))

    assert response.status_code == HTTPStatus.OK
    assert b"cdn" not in response.content.lower()
    assert b"/static/drf_spectacular_sidecar/" in response.content


def test_a_key_sent_before_staff_turned_the_account_off_sets_nothing(client, user, mailoutbox):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = client.post(
        reverse("api_password_reset_confirm"),
        {"uid": uid, "token": token, "new_password": NEW},
        content_type="application/json",
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
