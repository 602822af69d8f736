"""Fixtures and helpers every test file shares."""

import json
import re
import threading
from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from auth_flow.models import User

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    # The console backend's HTML parts, if a test prints emails: not in the project.
    settings.EMAIL_CONSOLE_HTML_DIR = tmp_path / "sent-emails"
    # Rate-limit counters live in the cache; every test starts with none.
    cache.clear()
    # Tests create and check many passwords; the production hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Nothing may ask the real breach API; test_password_policy serves one locally.
    settings.PWNED_PASSWORDS_CHECK = False
    # Run tasks inside the request so a test sees the email at once; the tests of the
    # queue itself switch back to the database backend.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    # Serve static files without a collectstatic manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _english_between_tests():
    # A request activates its language in this thread and nothing switches it back (a
    # server's next request activates its own); each test starts from the default.
    from django.utils import translation

    translation.activate("en")
    yield
    translation.activate("en")


@pytest.fixture(autouse=True)
def _rate_limit_memory(monkeypatch):
    # The counters kept while Redis is down, and the back-off, start empty too.
    from auth_flow.protection import ratelimit

    ratelimit._fallback.clear()
    monkeypatch.setattr(ratelimit, "_redis_down_until", 0.0)


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def user(db) -> User:
    return User.objects.create_user(username="alice", email="Alice@Example.com", password=PASSWORD)


@pytest.fixture
def client_logged_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def api_logged_in(user: User) -> tuple[Client, str]:
    """Return a logged-in client that enforces CSRF, and the token it must send back."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get(reverse("password_change"))  # sets the CSRF cookie, as a page load does
    return client, client.cookies["csrftoken"].value


@pytest.fixture(params=["page", "htmx"])
def mode(request) -> str:
    return request.param


@pytest.fixture
def any_client(mode: str, db) -> Client:
    """Return a plain browser client or an htmx one; tests hold for both."""
    return Client(headers={"HX-Request": "true", "HX-Target": "main"} if mode == "htmx" else {})


def reset_link_from(message, *, language: str = "en") -> str:
    """Return the reset link's path from an email, checking it is built from SITE_URL.

    The link carries the email's language (so its page opens in that language); the
    path returned leaves it off, as tests of the token care about the path alone.
    """
    from django.conf import settings

    for line in message.body.splitlines():
        line = line.strip()
        if line.startswith(settings.SITE_URL + "/accounts/reset/"):
            path, _, query = line.removeprefix(settings.SITE_URL).partition("?")
            assert query == f"lang={language}", line
            return path
    raise AssertionError(f"no reset link in email:\n{message.body}")


@pytest.fixture
def reset_path(client: Client, user: User, mailoutbox) -> str:
    client.post(reverse("password_reset"), {"email": user.email})
    assert len(mailoutbox) == 1
    return reset_link_from(mailoutbox[0])


@pytest.fixture
def marketing_user(db) -> User:
    from auth_flow.mail.marketing import marketing_user_create

    return marketing_user_create(
        username="mia", email="mia@example.com", password="mia-marketing-1234"
    )


@pytest.fixture
def marketing_client(marketing_user: User) -> Client:
    client = Client()
    client.force_login(marketing_user)
    return client


def at_once(*calls):
    """Run the calls from as many threads, released together; return their results."""
    start = threading.Barrier(len(calls))
    answers = [None] * len(calls)

    def run(index, call):
        start.wait()
        answers[index] = call()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def comparable(page: bytes) -> str:
    """Drop what differs between any two responses (CSP nonce, CSRF token)."""
    text = page.decode()
    text = re.sub(r'nonce="[^"]+"', 'nonce=""', text)
    return re.sub(r'("X-CSRFToken": "|name="csrfmiddlewaretoken" value=")[^"]+', r"\1", text)


def assert_safe_cookies(response) -> None:
    """Check every cookie set carries only the attributes the site chose (no injected ones)."""
    for morsel in response.cookies.values():
        assert not morsel["domain"], morsel.output()
        assert re.fullmatch(r"[/\w-]*", morsel["path"]), morsel.output()


def body_swap_path(response) -> str:
    """Return the page an htmx answer swaps the whole body to (HX-Location into <body>)."""
    assert response.status_code == HTTPStatus.OK
    location = json.loads(response["HX-Location"])
    assert location["target"] == "body", location
    return location["path"]
