"""The password policy of NIST SP 800-63B-4: length, blocklists, known breaches.

The breach check runs against a real HTTP server on this machine that answers as the
Pwned Passwords range API does, so the bytes the site sends are the ones checked here.
"""

import hashlib
import html
import logging
import runpy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import password_validation
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.test import Client
from django.urls import reverse

from auth_flow.accounts.breach import MESSAGE, BreachedPasswordValidator
from auth_flow.models import PendingSignup, User
from auth_flow.tests.test_api import key_from, post
from auth_flow.tests.test_signup import confirm, logs_in, signup, verify_link_from

BREACHED = "monkey-business-forever"
FRESH = "a violet kettle hums at dawn"
SETTINGS_FILE = str(django_settings.BASE_DIR / "site_config" / "settings.py")


def sha1_split(password: str) -> tuple[str, str]:
    """Return the password's SHA-1 as the range API splits it: prefix, suffix."""
    digest = hashlib.sha1(password.encode()).hexdigest().upper()
    return digest[:5], digest[5:]


def decoys(prefix: str) -> list[str]:
    """Return range lines for other passwords under this prefix, real counts and padding."""
    suffixes = [hashlib.sha1(f"{prefix}-{n}".encode()).hexdigest()[5:].upper() for n in range(6)]
    return [f"{suffix}:{n * 3}" for n, suffix in enumerate(suffixes)]


@dataclass
class Request:
    path: str
    headers: dict[str, str]


@dataclass
class RangeApi:
    """A Pwned Passwords range API on localhost: what it answers, and what it was asked."""

    url: str = ""
    lines: dict[str, list[str]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    # (status, body) to answer every request with instead of a range.
    answer: tuple[int, bytes] | None = None

    def breach(self, password: str, *, count: int) -> None:
        prefix, suffix = sha1_split(password)
        self.lines.setdefault(prefix, []).append(f"{suffix}:{count}")

    def body(self, path: str) -> tuple[int, bytes]:
        if self.answer:
            return self.answer
        prefix = path.removeprefix("/range/")
        lines = decoys(prefix) + self.lines.get(prefix, [])
        return HTTPStatus.OK, "\r\n".join(lines).encode()


class RangeHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        served: RangeApi = self.server.api
        served.requests.append(Request(self.path, {k.lower(): v for k, v in self.headers.items()}))
        status, body = served.body(self.path)
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass  # keep the test output to the tests'


@pytest.fixture
def range_api(settings) -> Iterator[RangeApi]:
    """Serve a range API on localhost and point the breach check at it, turned on."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    server.api = RangeApi(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    settings.PWNED_PASSWORDS_CHECK = True
    settings.PWNED_PASSWORDS_API_URL = server.api.url
    yield server.api
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def breached(range_api: RangeApi) -> str:
    range_api.breach(BREACHED, count=1234)
    return BREACHED


def text(response) -> str:
    return html.unescape(response.content.decode())


def refusal_codes(password: str, user=None) -> set[str]:
    """Return the codes of the rules this password breaks, through AUTH_PASSWORD_VALIDATORS."""
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        return {item.code for item in error.error_list}
    return set()


# --- Known breaches, on every path that sets a password ---------------------------------


def test_signup_refuses_a_breached_password(client, db, breached, range_api):
    response = signup(client, password=breached)

    assert response.status_code == HTTPStatus.OK
    assert MESSAGE in text(response)
    assert not PendingSignup.objects.exists()
    assert len(range_api.requests) == 1


def test_a_reset_refuses_a_breached_password(client, user, password, reset_path, breached):
    set_password_url = client.get(reset_path)["Location"]

    response = client.post(
        set_password_url, {"new_password1": breached, "new_password2": breached}
    )

    assert response.status_code == HTTPStatus.OK
    assert MESSAGE in text(response)
    user.refresh_from_db()
    assert user.check_password(password)


def test_a_change_refuses_a_breached_password(client_logged_in, user, password, breached):
    response = client_logged_in.post(
        reverse("password_change"),
        {"old_password": password, "new_password1": breached, "new_password2": breached},
    )

    assert response.status_code == HTTPStatus.OK
    assert MESSAGE in text(response)
    user.refresh_from_db()
    assert user.check_password(password)


def test_the_api_change_refuses_a_breached_password(api_logged_in, user, password, breached):
    client, csrf = api_logged_in

    response = post(
        client,
        "api_password_change",
        {"old_password": password, "new_password": breached},
        HTTP_X_CSRFTOKEN=csrf,
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["new_password"] == [MESSAGE]
    user.refresh_from_db()
    assert user.check_password(password)


def test_the_api_reset_refuses_a_breached_password(user, password, breached, settings, mailoutbox):
    settings.PASSWORD_RESET_CONFIRM_URL = "https://app.example.com/reset?key={key}"
    api = Client(enforce_csrf_checks=True)
    post(api, "api_password_reset", {"email": user.email})

    response = post(
        api,
        "api_password_reset_confirm",
        {"token": key_from(mailoutbox[-1]), "new_password": breached},
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["new_password"] == [MESSAGE]
    user.refresh_from_db()
    assert user.check_password(password)


def test_a_fresh_password_is_accepted(client, db, breached, range_api):
    response = signup(client, password=FRESH)

    assert response.status_code == HTTPStatus.FOUND
    assert PendingSignup.objects.exists()
    assert len(range_api.requests) == 1


def test_only_five_characters_of_the_hash_leave_the_site_with_padding_asked_for(
    range_api, settings
):
    prefix, suffix = sha1_split(FRESH)

    password_validation.validate_password(FRESH)

    (request,) = range_api.requests
    assert request.path == f"/range/{prefix}"
    assert len(prefix) == 5
    assert request.headers["add-padding"] == "true"
    assert settings.SITE_NAME in request.headers["user-agent"]
    sent = request.path + repr(request.headers)
    assert suffix not in sent
    assert FRESH not in sent


def test_a_padding_entry_for_the_password_is_no_hit(range_api):
    # Padding lines are decoys with a count of 0; a 0 for this very suffix is not a breach.
    range_api.breach(FRESH, count=0)

    assert refusal_codes(FRESH) == set()


def test_a_hit_is_refused_with_its_code(breached):
    assert refusal_codes(breached) == {"password_breached"}


def test_the_check_is_skipped_while_it_is_off(breached, range_api, settings):
    settings.PWNED_PASSWORDS_CHECK = False

    assert refusal_codes(breached) == set()
    assert range_api.requests == []


def test_the_rules_shown_while_typing_leave_the_breach_check_out(breached, range_api):
    from auth_flow.accounts.rules import password_rules_unmet

    assert BreachedPasswordValidator.live_check is False
    assert password_rules_unmet(password=breached, user=None) == []
    assert range_api.requests == []


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Return a port that takes connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


FAILURES = {
    "refused": "ConnectionRefusedError",
    "timeout": "TimeoutError",
    "http-503": "HTTP 503",
    "garbage": "not a range",
    "empty": "an empty answer",
}


@pytest.fixture(params=FAILURES)
def unreachable(request, range_api, settings) -> str:
    """Make the breach check's service fail in one way; return what the log should say."""
    if request.param == "refused":
        port = request.getfixturevalue("closed_port")
        settings.PWNED_PASSWORDS_API_URL = f"http://127.0.0.1:{port}"
    elif request.param == "timeout":
        settings.PWNED_PASSWORDS_TIMEOUT = 0.2
        port = request.getfixturevalue("silent_port")
        settings.PWNED_PASSWORDS_API_URL = f"http://127.0.0.1:{port}"
    elif request.param == "http-503":
        range_api.answer = (HTTPStatus.SERVICE_UNAVAILABLE, b"busy")
    elif request.param == "garbage":
        range_api.answer = (HTTPStatus.OK, b"<html><body>Sign in to the hotel Wi-Fi</body></html>")
    else:
        range_api.answer = (HTTPStatus.OK, b"")
    # Breached, so only a check that failed could let it through.
    range_api.breach(BREACHED, count=99)
    return FAILURES[request.param]


def test_an_unreachable_service_accepts_the_password_and_says_so(client, db, unreachable, caplog):
    prefix, suffix = sha1_split(BREACHED)
    before = client.get(reverse("health")).json()["breach_check_unreachable"]

    with caplog.at_level(logging.INFO):
        response = signup(client, password=BREACHED)

    assert response.status_code == HTTPStatus.FOUND
    assert PendingSignup.objects.exists()
    (warning,) = [r for r in caplog.records if r.name == "auth_flow.accounts.breach"]
    assert warning.levelno == logging.WARNING
    assert "accepted unchecked" in warning.getMessage()
    assert unreachable in warning.getMessage()
    for secret in (BREACHED, prefix + suffix, prefix):
        assert secret not in caplog.text
    health = client.get(reverse("health"))
    assert health.status_code == HTTPStatus.OK
    assert health.json()["breach_check_unreachable"] == before + 1 == 1


def test_a_password_the_length_rules_refuse_is_not_sent(range_api):
    range_api.breach("monkey-biz", count=5)

    assert refusal_codes("monkey-biz") == {"password_too_short"}
    assert refusal_codes("x" * 4097) == {"password_too_long"}
    assert range_api.requests == []


# --- Length, character set and blocklists ---------------------------------------------


def test_the_minimum_is_15_characters_and_says_so(client, db):
    response = signup(client, password="lantern-harbor")  # 14

    assert "This password is too short. It must contain at least 15 characters." in text(response)
    assert not PendingSignup.objects.exists()
    assert signup(client, password="lantern-harbors").status_code == HTTPStatus.FOUND


@pytest.mark.parametrize(
    ("password", "codes"),
    [
        ("lantern-harbor", {"password_too_short"}),
        ("lantern-harbors", set()),
        ("x7" * 32, set()),  # the 64 NIST asks every site to allow
        ("correct horse battery staple", set()),
        ("パスワードは長い方が安全ですよね", set()),
        ("🦊🌲🦉🍄🌙🌊🔥🎈🧭🦔🌵🐚🪁🪐🍋", set()),
        ("Ünïcödé façade, naïve café", set()),
        ("384920175563812", set()),  # a long random number is a fine password
        ("111111111111111", {"password_too_common"}),
        ("123456789123456", {"password_too_common"}),
        ("x" * 4096, set()),
        ("x" * 4097, {"password_too_long"}),
    ],
    ids=[
        "14",
        "15",
        "64",
        "spaces",
        "japanese",
        "emoji",
        "accents",
        "random-number",
        "repeated-digit",
        "common-number",
        "at-the-max",
        "over-the-max",
    ],
)
def test_the_rules_are_length_and_blocklists_not_composition(db, password, codes):
    assert refusal_codes(password) == codes


def test_over_the_maximum_says_how_long_a_password_can_be(client, db):
    response = signup(client, password="x" * 4097)

    assert "It must contain at most 4096 characters." in text(response)
    assert not PendingSignup.objects.exists()


@pytest.mark.parametrize(
    "password",
    ["Passage forever and always", "zoe-walker forever and always", "zoe.w@example.com is me"],
    ids=["site-name", "username", "email"],
)
def test_the_context_words_are_refused(db, password):
    user = User(username="zoe-walker", email="zoe.w@example.com")

    assert "password_contains_personal_words" in refusal_codes(password, user)


def test_a_non_latin_password_signs_up_confirms_and_logs_in(client, db, mailoutbox):
    password = "東京の夜 🌙 は静かで、とても長い"

    signup(client, username="kenji", email="kenji@example.com", password=password)
    confirmed = confirm(Client(), verify_link_from(mailoutbox[0]), password=password)

    assert confirmed.status_code == HTTPStatus.FOUND
    assert logs_in("kenji", password)


def test_an_account_with_an_older_short_password_still_logs_in(db):
    # The policy applies to passwords being set; existing ones keep working.
    old = User.objects.create_user(username="olga", email="olga@example.com")
    old.set_password("short-7")
    old.save()

    assert logs_in("olga", "short-7")
    assert logs_in("olga@example.com", "short-7")


def test_every_rule_has_a_help_sentence(settings):
    texts = password_validation.password_validators_help_texts()

    assert "Your password can contain up to 4096 characters." in texts
    assert "Your password can't be one that appears in a known data breach." in texts
    assert all(text.endswith(".") for text in texts)


# --- Settings --------------------------------------------------------------------------


@pytest.fixture
def environ(monkeypatch):
    """Start from a production-like environment with none of the password variables set."""
    for name in (
        "DJANGO_DEBUG",
        "PASSWORD_MIN_LENGTH",
        "PASSWORD_MAX_LENGTH",
        "PWNED_PASSWORDS_CHECK",
        "PWNED_PASSWORDS_API_URL",
        "PWNED_PASSWORDS_TIMEOUT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DJANGO_SECRET_KEY", "a-real-secret")
    monkeypatch.setenv("EMAIL_PROVIDER", "console")
    return monkeypatch


def load_settings() -> dict:
    return runpy.run_path(SETTINGS_FILE)


def validator_options(loaded: dict) -> dict[str, dict]:
    return {
        item["NAME"].rsplit(".", 1)[1]: item.get("OPTIONS", {})
        for item in loaded["AUTH_PASSWORD_VALIDATORS"]
    }


def test_the_policy_defaults(environ):
    loaded = load_settings()

    validators = validator_options(loaded)
    assert validators["MinimumLengthValidator"] == {"min_length": 15}
    assert validators["MaximumLengthValidator"] == {"max_length": 4096}
    assert set(validators) == {
        "MinimumLengthValidator",
        "MaximumLengthValidator",
        "UserAttributeSimilarityValidator",
        "PersonalWordsValidator",
        "CommonPasswordValidator",
        "BreachedPasswordValidator",
    }
    assert loaded["PWNED_PASSWORDS_API_URL"] == "https://api.pwnedpasswords.com"
    assert loaded["PWNED_PASSWORDS_TIMEOUT"] == 2


@pytest.mark.parametrize(
    ("debug", "check", "expected"),
    [("0", None, True), ("1", None, False), ("1", "1", True), ("0", "0", False)],
    ids=["debug-off", "debug-on", "debug-on-asked-for", "debug-off-turned-off"],
)
def test_the_breach_check_defaults_to_on_without_debug(environ, debug, check, expected):
    environ.setenv("DJANGO_DEBUG", debug)
    if check is not None:
        environ.setenv("PWNED_PASSWORDS_CHECK", check)

    assert load_settings()["PWNED_PASSWORDS_CHECK"] is expected


def test_the_policy_comes_from_the_environment(environ):
    environ.setenv("PASSWORD_MIN_LENGTH", "20")
    environ.setenv("PASSWORD_MAX_LENGTH", "256")
    environ.setenv("PWNED_PASSWORDS_API_URL", "https://pwned.internal.example/")
    environ.setenv("PWNED_PASSWORDS_TIMEOUT", "30")

    loaded = load_settings()

    validators = validator_options(loaded)
    assert validators["MinimumLengthValidator"] == {"min_length": 20}
    assert validators["MaximumLengthValidator"] == {"max_length": 256}
    assert loaded["PWNED_PASSWORDS_API_URL"] == "https://pwned.internal.example"
    assert loaded["PWNED_PASSWORDS_TIMEOUT"] == 2  # capped: a sign-up waits for it


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PASSWORD_MIN_LENGTH", "7"),
        ("PASSWORD_MAX_LENGTH", "63"),
        ("PWNED_PASSWORDS_API_URL", "api.pwnedpasswords.com"),
        ("PWNED_PASSWORDS_TIMEOUT", "0"),
    ],
)
def test_a_policy_below_nists_floor_stops_start_up_naming_the_variable(environ, name, value):
    environ.setenv(name, value)

    with pytest.raises(ImproperlyConfigured, match=name):
        load_settings()
