"""A frontend on another origin resets a password through the JSON API."""

import re
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from auth_flow.models import User
from e2e.test_journeys import NEW_PASSWORD, PASSWORD, log_in

FRONTEND = "https://app.example.test"
# A stand-in for the SPA, which reads the key from the URL it was opened at.
FRONTEND_PAGE = """<!doctype html><html lang="en"><title>Reset</title>
<main><h1>Choose a new password</h1></main></html>"""


def test_an_api_reset_emails_a_frontend_link_whose_key_confirms_once(
    page: Page, live_server, mailoutbox, settings, db
):
    settings.PASSWORD_RESET_CONFIRM_URL = FRONTEND + "/reset?key={key}"
    User.objects.create_user("dana", "dana@example.com", PASSWORD)
    page.route(
        f"{FRONTEND}/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body=FRONTEND_PAGE),
    )
    api = page.request

    asked = api.post(
        f"{live_server.url}/api/auth/password/reset/", data={"email": "Dana@Example.com"}
    )
    assert asked.status == HTTPStatus.OK
    assert asked.json()["status"] == "OK"

    (message,) = mailoutbox
    (html, _) = message.alternatives[0]
    link = re.search(rf'href="({re.escape(FRONTEND)}/reset\?key=[^"]+)"', html).group(1)
    assert link in message.body  # the text part carries the same link
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    key = parse_qs(urlsplit(page.url).query)["key"][0]
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[0-9a-z]+-[0-9a-f]+", key), key

    confirm = f"{live_server.url}/api/auth/password/reset/confirm/"
    first = api.post(confirm, data={"token": key, "new_password": NEW_PASSWORD})
    again = api.post(confirm, data={"token": key, "new_password": "yet-another-pass-77"})
    assert first.status == HTTPStatus.OK
    assert again.status == HTTPStatus.BAD_REQUEST
    assert list(again.json()) == ["token"]

    page.unroute(f"{FRONTEND}/**", None)
    page.goto(live_server.url + "/")
    log_in(page, username="dana", password=NEW_PASSWORD)


def test_the_api_docs_render_from_local_files_under_the_sites_csp(
    page: Page, live_server, csp_violations, javascript
):
    if not javascript:
        pytest.skip("Swagger UI is a script; without JavaScript the schema is /api/schema/")
    outside: list[str] = []
    page.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None,
    )
    page.goto(live_server.url + "/api/docs/")

    expect(page.get_by_text("/api/auth/password/reset/confirm/").first).to_be_visible()
    assert outside == []
    assert page.evaluate("window.__cspViolations") == []
