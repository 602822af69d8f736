"""The reset and change pages, as a browser and as htmx see them."""

import re
from datetime import datetime, timedelta
from http import HTTPStatus
from unittest import mock

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from auth_flow.tests.conftest import body_swap_path, reset_link_from

NEW_PASSWORD = "a-brand-new-passphrase-42"

PUBLIC_PAGES = [
    "home",
    "login",
    "signup",
    "password_reset",
    "password_reset_done",
    "password_reset_complete",
]
PRIVATE_PAGES = ["password_change", "password_change_done"]


def is_full_page(response) -> bool:
    return b"<html" in response.content and b'<main id="main"' in response.content


@pytest.mark.parametrize("name", PUBLIC_PAGES + PRIVATE_PAGES)
def test_page_is_full_for_browsers_and_a_partial_for_htmx(client, user, name):
    client.force_login(user)
    if name in {"login", "signup"}:
        client.logout()

    page = client.get(reverse(name))
    partial = client.get(reverse(name), headers={"HX-Request": "true", "HX-Target": "main"})

    assert page.status_code == partial.status_code == HTTPStatus.OK
    assert is_full_page(page)
    assert not is_full_page(partial)
    assert b"<h1" in partial.content
    # The partial is the page's own <main> content, not a second template.
    heading = partial.content[partial.content.index(b"<h1") :].split(b"</h1>", 1)[0]
    assert heading in page.content
    for response in (page, partial):
        assert {"HX-Request", "HX-Target"} <= set(map(str.strip, response["Vary"].split(",")))


@pytest.mark.parametrize(
    "headers",
    [
        {"HX-Request": "true", "HX-Boosted": "true"},
        {"HX-Request": "true", "HX-History-Restore-Request": "true"},
        {"HX-Request": "true", "HX-Target": "main", "HX-History-Restore-Request": "true"},
        # HX-Location into <body> (after log-in): the header changes too.
        {"HX-Request": "true"},
    ],
    ids=["boosted", "history-restore", "history-restore-as-htmx", "whole-body"],
)
def test_requests_that_replace_more_than_main_get_the_full_page(client, headers):
    response = client.get(reverse("password_reset"), headers=headers)

    assert is_full_page(response)


def test_security_headers(client):
    response = client.get(reverse("login"))

    csp = response["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert response["Referrer-Policy"] == "same-origin"
    nonce = csp.split("'nonce-", 1)[1].split("'", 1)[0]
    # Every script the browser runs carries the nonce (JSON data is never run).
    tags = re.findall(r"<script\b[^>]*>", response.content.decode())
    run = [tag for tag in tags if 'type="application/json"' not in tag]
    assert run
    assert all(f'nonce="{nonce}"' in tag for tag in run)


# Password reset request ---------------------------------------------------------------


def test_reset_request_redirects_browsers_and_swaps_for_htmx(any_client, mode, user, mailoutbox):
    response = any_client.post(reverse("password_reset"), {"email": "alice@example.com"})

    done = reverse("password_reset_done")
    if mode == "htmx":
        assert response.status_code == HTTPStatus.OK
        assert (
            response["HX-Location"]
            == f'{{"path": "{done}", "target": "#main", "swap": "innerHTML"}}'
        )
    else:
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"] == done
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [user.email]


@pytest.mark.parametrize("email", ["", "not-an-email", "a" * 300 + "@example.com"])
def test_reset_request_with_a_bad_address_shows_the_error_in_place(any_client, mode, email):
    response = any_client.post(reverse("password_reset"), {"email": email})

    assert response.status_code == HTTPStatus.OK
    assert b"is-invalid" in response.content
    assert is_full_page(response) == (mode == "page")


def test_unknown_address_gets_exactly_the_same_response_and_no_email(client, user, mailoutbox):
    known = client.post(reverse("password_reset"), {"email": user.email})
    unknown = client.post(reverse("password_reset"), {"email": "nobody@example.com"})

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert known.content == unknown.content
    assert len(mailoutbox) == 1


def test_reset_link_is_built_from_site_url_not_the_host_header(client, user, settings, mailoutbox):
    settings.ALLOWED_HOSTS = ["attacker.example"]
    settings.SITE_URL = "https://accounts.example.com"

    client.post(
        reverse("password_reset"), {"email": user.email}, headers={"Host": "attacker.example"}
    )

    message = mailoutbox[0]
    assert "attacker.example" not in message.body
    assert "https://accounts.example.com/accounts/reset/" in message.body
    html = message.alternatives[0].content
    assert 'href="https://accounts.example.com/accounts/reset/' in html


# Password reset confirm ---------------------------------------------------------------


def test_reset_link_moves_the_token_out_of_the_url_and_works_once(client, user, reset_path):
    first = client.get(reset_path)

    assert first.status_code == HTTPStatus.FOUND
    assert first["Referrer-Policy"] == "no-referrer"
    token = reset_path.rstrip("/").rsplit("/", 1)[1]
    assert token not in first["Location"]
    assert first["Location"].endswith("/set-password/")

    form = client.get(first["Location"])
    assert b"Choose a new password" in form.content
    assert token not in form.content.decode()

    done = client.post(
        first["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done["Location"] == reverse("password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)

    again = client.get(reset_path, follow=True)
    assert b"This reset link can't be used" in again.content
    assert reverse("password_reset").encode() in again.content


def test_the_token_is_never_stored_server_side(client, user, reset_path):
    token = reset_path.rstrip("/").rsplit("/", 1)[1]

    first = client.get(reset_path)
    form = client.get(first["Location"])

    assert b"Choose a new password" in form.content
    cookie = first.cookies["reset_token"]
    assert cookie["path"] == reset_path.rstrip("/").rsplit("/", 1)[0] + "/"
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    # A session cookie: it does not outlive the browser (the token's expiry still holds).
    assert not cookie["max-age"]
    assert not cookie["expires"]
    for session in Session.objects.all():
        assert token not in str(session.get_decoded())
        assert token not in session.session_data

    done = client.post(
        first["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.cookies["reset_token"].value == ""  # deleted once used


def test_reset_confirm_by_htmx_swaps_in_the_done_page(client, user, reset_path):
    set_password_url = client.get(reset_path)["Location"]

    response = client.post(
        set_password_url,
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        headers={"HX-Request": "true", "HX-Target": "main"},
    )

    assert reverse("password_reset_complete") in response["HX-Location"]


def test_reset_confirm_errors_swap_in_place(client, user, reset_path):
    set_password_url = client.get(reset_path)["Location"]

    response = client.post(
        set_password_url,
        {"new_password1": NEW_PASSWORD, "new_password2": "something else"},
        headers={"HX-Request": "true", "HX-Target": "main"},
    )

    assert response.status_code == HTTPStatus.OK
    assert not is_full_page(response)
    assert (
        b"didn\xe2\x80\x99t match" in response.content or b"didn&#x27;t match" in response.content
    )
    user.refresh_from_db()
    assert not user.check_password(NEW_PASSWORD)


@pytest.mark.parametrize(
    ("uidb64", "token"),
    [
        ("junk", "junk-token"),
        ("MQ", "set-password"),
        ("%C3%A9%E2%9C%93", "\u2603-\u2603"),
        ("A" * 5000, "B" * 5000),
        ("MTIzNDU2Nzg5MDEyMzQ1Njc4OTA", "abc-123"),
    ],
)
def test_junk_reset_links_show_the_friendly_page(client, user, uidb64, token):
    url = reverse("password_reset_confirm", kwargs={"uidb64": "x", "token": "y"})
    url = url.replace("/x/y/", f"/{uidb64}/{token}/")

    response = client.get(url, follow=True)

    assert response.status_code == HTTPStatus.OK
    assert b"Request a new link" in response.content


def test_posting_to_an_invalid_link_changes_nothing(client, user, password):
    # The real account's uid, with the set-password step but no token behind it.
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    url = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": "set-password"})

    response = client.post(url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == HTTPStatus.OK
    user.refresh_from_db()
    assert user.check_password(password)


def test_a_link_sent_before_staff_turned_the_account_off_sets_nothing(
    client, user, password, reset_path
):
    set_password = client.get(reset_path)["Location"]
    type(user).objects.filter(pk=user.pk).update(is_active=False)

    response = client.post(
        set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert b"Request a new link" in response.content
    user.refresh_from_db()
    assert user.check_password(password)  # whoever held the link knows nothing new


# Password change ----------------------------------------------------------------------


def test_password_change_keeps_this_session_and_ends_the_others(user, password, mailoutbox):
    here, elsewhere = Client(), Client()
    assert here.login(username="alice", password=password)
    assert elsewhere.login(username="alice", password=password)
    assert elsewhere.get(reverse("password_change")).status_code == HTTPStatus.OK

    response = here.post(
        reverse("password_change"),
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response["Location"] == reverse("password_change_done")
    assert SESSION_KEY in here.session
    assert here.get(reverse("password_change")).status_code == HTTPStatus.OK
    assert elsewhere.get(reverse("password_change")).status_code == HTTPStatus.FOUND
    assert [m.subject for m in mailoutbox] == ["Your Passage password was changed"]


def test_password_change_by_htmx(client_logged_in, password):
    response = client_logged_in.post(
        reverse("password_change"),
        {"old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        headers={"HX-Request": "true", "HX-Target": "main"},
    )

    assert reverse("password_change_done") in response["HX-Location"]


def test_password_change_with_a_wrong_old_password_swaps_the_error_in(client_logged_in):
    response = client_logged_in.post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        headers={"HX-Request": "true", "HX-Target": "main"},
    )

    assert response.status_code == HTTPStatus.OK
    assert not is_full_page(response)
    assert b"Your old password was entered incorrectly" in response.content


def test_htmx_post_with_an_expired_session_swaps_in_the_login_page(client):
    response = client.post(
        reverse("password_change"),
        {"old_password": "x"},
        headers={"HX-Request": "true", "HX-Target": "main"},
    )

    assert response.status_code == HTTPStatus.OK
    assert body_swap_path(response).startswith(reverse("login"))
    assert response.content == b""


# Sign up, log in, log out -------------------------------------------------------------


@pytest.mark.parametrize("login_as", ["alice", "alice@example.com", "ALICE@EXAMPLE.COM"])
def test_login_with_username_or_email(any_client, mode, user, password, login_as):
    response = any_client.post(reverse("login"), {"username": login_as, "password": password})

    target = body_swap_path(response) if mode == "htmx" else response["Location"]
    assert target == reverse("home")
    assert int(any_client.session[SESSION_KEY]) == user.pk


@pytest.mark.parametrize("login_as", ["alice", "nobody@example.com", "x" * 10_000, "\u00e9\u2603"])
def test_login_failure_shows_the_error_in_place(any_client, mode, user, login_as):
    response = any_client.post(reverse("login"), {"username": login_as, "password": "wrong"})

    assert response.status_code == HTTPStatus.OK
    assert b"alert" in response.content
    assert is_full_page(response) == (mode == "page")
    assert SESSION_KEY not in any_client.session


def test_logout_is_post_only(client_logged_in):
    assert client_logged_in.get(reverse("logout")).status_code == HTTPStatus.METHOD_NOT_ALLOWED

    response = client_logged_in.post(reverse("logout"), follow=True)

    assert b"You are logged out." in response.content
    assert SESSION_KEY not in client_logged_in.session


@pytest.mark.parametrize("name", ["login", "signup", "password_reset", "password_change"])
@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_wrong_methods_are_refused_not_crashed(client_logged_in, name, method):
    if name in {"login", "signup"}:
        client_logged_in.logout()

    response = getattr(client_logged_in, method)(reverse(name))

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


FORM_FIELDS = {
    "login": ("username", "password"),
    "signup": ("username", "email", "password1", "password2"),
    "password_reset": ("email",),
    "password_change": ("old_password", "new_password1", "new_password2"),
}


@pytest.mark.parametrize("name", list(FORM_FIELDS))
def test_empty_and_huge_posts_are_answered_not_crashed(client_logged_in, name, settings):
    if name in {"login", "signup"}:
        client_logged_in.logout()
    fields = FORM_FIELDS[name]
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    # Each form's own fields, filled to just under Django's upload limit, then over it.
    under = {field: "a" * (limit // len(fields) - 200) for field in fields}
    over = {field: "a" * (limit // len(fields) + 200) for field in fields}

    empty = client_logged_in.post(reverse(name), {})
    huge = client_logged_in.post(reverse(name), under)
    too_big = client_logged_in.post(reverse(name), over)

    for response in (empty, huge):
        assert response.status_code == HTTPStatus.OK
        assert b"is-invalid" in response.content or b"alert" in response.content
    assert too_big.status_code == HTTPStatus.BAD_REQUEST
    assert b"<html" in too_big.content  # the site's own 400 page, not a traceback


def test_an_expired_link_shows_the_friendly_page(client, user, reset_path, settings):
    settings.PASSWORD_RESET_TIMEOUT = 60
    later = datetime.now() + timedelta(seconds=61)

    with mock.patch.object(PasswordResetTokenGenerator, "_now", return_value=later):
        response = client.get(reset_path, follow=True)

    assert b"This reset link can't be used" in response.content
    assert b"Request a new link" in response.content


def test_a_stale_form_gets_a_friendly_csrf_page(db):
    client = Client(enforce_csrf_checks=True)

    response = client.post(reverse("password_reset"), {"email": "alice@example.com"})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert b"This form has expired" in response.content
    assert b"Nothing was changed." in response.content


def test_unknown_pages_get_the_site_404(client, db):
    response = client.get("/no/such/page/")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert b"Page not found" in response.content
    assert is_full_page(response)


def test_an_unknown_page_swapped_into_main_is_the_404_partial(client, db):
    response = client.get("/no/such/page/", headers={"HX-Request": "true", "HX-Target": "main"})

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert b"Page not found" in response.content
    assert not is_full_page(response)


def test_a_reset_logs_out_every_other_session(client, user, password, mailoutbox):
    elsewhere = Client()
    assert elsewhere.login(username="alice", password=password)
    assert elsewhere.get(reverse("password_change")).status_code == HTTPStatus.OK
    client.post(reverse("password_reset"), {"email": user.email})
    set_password_url = client.get(reset_link_from(mailoutbox[0]))["Location"]

    client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert elsewhere.get(reverse("password_change")).status_code == HTTPStatus.FOUND


def test_errors_are_tied_to_their_fields_for_screen_readers(client, db):
    response = client.post(reverse("password_reset"), {"email": "nope"})

    html = response.content.decode()
    assert 'aria-invalid="true"' in html
    error_id = html.split('aria-describedby="', 1)[1].split('"', 1)[0].split()[0]
    assert f'id="{error_id}"' in html


def test_an_htmx_visit_to_the_reset_link_keeps_its_security_headers(client, user, reset_path):
    response = client.get(reset_path, headers={"HX-Request": "true", "HX-Target": "main"})

    assert body_swap_path(response).endswith("/set-password/")
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    assert response.cookies["reset_token"].value


def test_a_raw_user_agent_never_reaches_the_email(client, user, mailoutbox):
    client.post(
        reverse("password_reset"),
        {"email": user.email},
        headers={"User-Agent": "curl/8 using our security team. URGENT: https://evil.example/x"},
    )

    (message,) = mailoutbox
    html = message.alternatives[0].content
    assert "using an unknown browser" in message.body
    assert "evil.example" not in message.body + html


@pytest.mark.parametrize(
    ("form", "fields"),
    [
        ("signup", ("password1", "password2")),
        ("reset", ("new_password1", "new_password2")),
        ("change", ("new_password1", "new_password2")),
    ],
)
def test_password_rules_speak_under_the_new_password_and_a_mismatch_under_its_twin(
    client, user, password, reset_path, form, fields
):
    import re

    if form == "signup":
        url = reverse("signup")
        base = {"username": "newbie", "email": "newbie@example.com"}
    elif form == "reset":
        url, base = client.get(reset_path)["Location"], {}
    else:
        client.force_login(user)
        url, base = reverse("password_change"), {"old_password": password}
    new, twin = fields

    weak = client.post(
        url, {**base, new: "123", twin: "123"}, headers={"HX-Request": "true", "HX-Target": "main"}
    )
    mismatch = client.post(
        url, {**base, new: "a-long-enough-passphrase-1", twin: "another-passphrase-2"}
    )

    def errors_under(response, field: str) -> str:
        # crispy renders a field's errors in a block whose id names the field.
        found = re.findall(rf'id="error_\d+_id_{field}"[^>]*>(.*?)</', response.content.decode())
        return " ".join(found)

    assert "too short" in errors_under(weak, new)
    assert errors_under(weak, twin) == ""
    assert "match" in errors_under(mismatch, twin)
    assert errors_under(mismatch, new) == ""


def test_check_your_email_says_how_many_links_an_address_gets(any_client, db, settings):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "reset_email_per_address": "3/900",
        "reset_email_per_address_daily": "10/86400",
    }

    page = any_client.get(reverse("password_reset_done")).content.decode()

    # The same words for every address: the fourth request in 15 minutes gets no email.
    assert "at most 3 links to one address every 15\xa0minutes, and 10 a day" in page


def test_every_page_has_a_meta_description(client, db):
    for name in ("home", "login", "signup", "password_reset"):
        page = client.get(reverse(name)).content.decode()
        assert '<meta name="description" content="' in page, name


def test_the_log_in_error_and_the_username_help_say_what_the_rules_are(client, user):
    failed = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    signup = client.get(reverse("signup")).content.decode()

    text = failed.content.decode()
    assert "That username or email address and password don&#x27;t match." in text
    assert "case-sensitive" not in text
    assert "(no @)" in signup
    assert "@/./+/-/_" not in signup
