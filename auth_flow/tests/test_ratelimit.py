"""Rate limits count atomically, key IPv6 by /64, and survive Redis going down."""

import logging
import os
import runpy
import socket
import threading
import time
import uuid
from http import HTTPStatus

import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory
from django.urls import reverse

from auth_flow.models import RateWindow
from auth_flow.protection.ratelimit import (
    Rate,
    client_ip,
    rate_limit_hit,
    rate_window_count_shared,
    rate_windows_prune,
)
from auth_flow.tests.conftest import PASSWORD, at_once

SETTINGS_FILE = str(django_settings.BASE_DIR / "site_config" / "settings.py")


def post_reset(client, *, ip: str, email: str = "someone@example.com", **headers):
    return client.post(
        reverse("password_reset"), {"email": email}, REMOTE_ADDR=ip, headers=headers
    )


def test_reset_requests_beyond_the_rate_get_a_429_page(client, db, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset": "2/900"}

    allowed = [post_reset(client, ip="203.0.113.1") for _ in range(2)]
    refused = post_reset(client, ip="203.0.113.1")
    other_ip = post_reset(client, ip="203.0.113.2")

    assert [r.status_code for r in allowed] == [HTTPStatus.FOUND] * 2
    assert refused.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert refused["Retry-After"] == "900"
    assert b"Please wait up to 15 minutes and try again." in refused.content
    assert b"<html" in refused.content
    assert other_ip.status_code == HTTPStatus.FOUND


def test_the_429_is_a_partial_for_htmx(client, db, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": "1/60"}
    client.post(reverse("login"), {"username": "x", "password": "y"})

    response = client.post(
        reverse("login"),
        {"username": "x", "password": "y"},
        headers={"HX-Request": "true", "HX-Target": "main"},
    )

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert b"<html" not in response.content
    assert b"Too many attempts" in response.content
    assert b"try again in 1 minute." in response.content


def test_one_inbox_gets_a_limited_number_of_reset_emails(client, user, settings, mailoutbox):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "reset_email_per_address": "2/900"}

    responses = [post_reset(client, ip=f"198.51.100.{n}", email=user.email) for n in range(4)]

    # Every request gets the same answer; only the emails stop.
    assert {r.status_code for r in responses} == {HTTPStatus.FOUND}
    assert len(mailoutbox) == 2


def test_one_inbox_gets_a_limited_number_of_reset_emails_a_day(client, user, settings, mailoutbox):
    # The 15-minute window out of the way: a flood that waits it out meets the daily one.
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "password_reset": "100/900",
        "reset_email_per_address": "100/900",
        "reset_email_per_address_daily": "4/86400",
    }

    for n in range(6):
        post_reset(client, ip=f"198.51.100.{n}", email=user.email)

    assert len(mailoutbox) == 4


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "1.1.1.1", "10.0.0.9"),
        (1, "1.1.1.1", "1.1.1.1"),
        (1, "6.6.6.6, 1.1.1.1", "1.1.1.1"),
        (2, "6.6.6.6, 1.1.1.1, 10.0.0.2", "1.1.1.1"),
        (2, "1.1.1.1", "10.0.0.9"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_ip(request=request) == expected


@pytest.fixture
def redis_cache(settings):
    """Point the cache at a real Redis: TEST_REDIS_URL, else this machine's, else skip."""
    url = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/0"
    redis = pytest.importorskip("redis")
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis answers at {url} (set TEST_REDIS_URL)")
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }
    return client


def redis_key(scope: str, key: str) -> str:
    from django.core.cache import cache

    from auth_flow.protection.ratelimit import _cache_key

    return cache.make_and_validate_key(_cache_key(scope=scope, key=key))


def test_the_limiter_works_on_redis(redis_cache):
    rate = Rate(count=2, seconds=60)
    key = uuid.uuid4().hex  # a fresh counter, without flushing a shared Redis

    hits = [rate_limit_hit(scope="test", key=key, rate=rate) for _ in range(3)]

    assert hits == [False, False, True]
    assert 0 < redis_cache.ttl(redis_key("test", key)) <= 60


def test_a_redis_counter_always_has_an_expiry_and_unblocks(redis_cache):
    rate = Rate(count=2, seconds=1)
    key = uuid.uuid4().hex
    raw = redis_key("test", key)
    # What the old add()-then-incr() left when the key expired between EXISTS and INCR:
    # a counter over the limit with no expiry, blocking this key for ever.
    redis_cache.set(raw, 7)

    assert rate_limit_hit(scope="test", key=key, rate=rate)
    assert 0 < redis_cache.ttl(raw) <= 1

    deadline = time.monotonic() + 5
    while redis_cache.exists(raw):  # the real window passing, on the real server
        assert time.monotonic() < deadline, "the key never expired"
        time.sleep(0.05)
    assert not rate_limit_hit(scope="test", key=key, rate=rate)
    assert redis_cache.ttl(raw) > 0


def test_many_threads_counting_on_redis_never_leave_a_key_without_expiry(redis_cache):
    rate = Rate(count=1000, seconds=1)
    key = uuid.uuid4().hex
    raw = redis_key("test", key)
    stop = time.monotonic() + 2.5  # more than two windows, so keys expire mid-burst
    missing_ttl = []

    def hammer():
        while time.monotonic() < stop:
            rate_limit_hit(scope="test", key=key, rate=rate)
            if redis_cache.ttl(raw) == -1:
                missing_ttl.append(True)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert missing_ttl == []
    assert redis_cache.ttl(raw) in (-2, 0, 1)


def test_the_shared_counter_counts_each_of_many_simultaneous_events_once(transactional_db):
    # Eight threads, eight database connections, one key: no two read the same count.
    rate = Rate(100, 60)
    hit = lambda: rate_window_count_shared(scope="t", key="k", rate=rate).count  # noqa: E731

    counts = at_once(*[hit] * 8)

    assert sorted(counts) == list(range(1, 9))
    assert RateWindow.objects.get().count == 8


def test_the_shared_counter_starts_again_when_its_window_ends(db, monkeypatch):
    rate = Rate(2, 60)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)
    for _ in range(3):
        window = rate_window_count_shared(scope="t", key="k", rate=rate)
    assert (window.count, window.seconds_left) == (3, 60)

    monkeypatch.setattr(time, "time", lambda: now + 61)
    window = rate_window_count_shared(scope="t", key="k", rate=rate)
    assert (window.count, window.seconds_left) == (1, 60)
    assert rate_windows_prune() == 0  # the live window stays

    monkeypatch.setattr(time, "time", lambda: now + 200)
    assert rate_windows_prune() == 1
    assert not RateWindow.objects.exists()


# --- IPv6 clients are counted by their /64 ---------------------------------------------


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("::1", "::/64"),
        ("not-an-ip", "not-an-ip"),
        ("", ""),
    ],
)
def test_client_ip_key_counts_ipv6_by_its_64_and_ipv4_by_address(settings, ip, expected):
    from auth_flow.protection.ratelimit import client_ip_key

    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=ip)

    assert client_ip_key(request=request) == (expected if ip else "10.0.0.9")
    assert client_ip(request=request) == (ip or "10.0.0.9")  # the real address, for emails


def test_reset_posts_from_one_ipv6_64_share_one_count(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 1

    codes = [
        post_reset(client, ip="10.0.0.9", **{"X-Forwarded-For": f"2001:db8:aa:bb::{n:x}"})
        for n in range(1, 26)
    ]

    assert codes.index(next(c for c in codes if c.status_code == 429)) == 10  # the 11th
    assert {c.status_code for c in codes[:10]} == {HTTPStatus.FOUND}
    assert {c.status_code for c in codes[10:]} == {HTTPStatus.TOO_MANY_REQUESTS}


def test_two_ipv6_64s_do_not_share_a_count(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(1, 11):
        post_reset(client, ip="10.0.0.9", **{"X-Forwarded-For": f"2001:db8:aa:bb::{n:x}"})

    other = post_reset(client, ip="10.0.0.9", **{"X-Forwarded-For": "2001:db8:aa:bc::1"})

    assert other.status_code == HTTPStatus.FOUND


def test_ipv4_mapped_ipv6_counts_as_its_ipv4_address(client, db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "password_reset": "1/900"}
    post_reset(client, ip="10.0.0.9", **{"X-Forwarded-For": "203.0.113.7"})

    mapped = post_reset(client, ip="10.0.0.9", **{"X-Forwarded-For": "::ffff:203.0.113.7"})

    assert mapped.status_code == HTTPStatus.TOO_MANY_REQUESTS


# --- Without Redis: counted in each process's memory, never a 500 ----------------------


def closed_port() -> int:
    """Return a local TCP port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_down(settings, monkeypatch):
    """Point the cache, as settings.py builds it from REDIS_URL, at a closed port."""
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{closed_port()}/0")
    settings.CACHES = runpy.run_path(SETTINGS_FILE)["CACHES"]


def test_redis_gets_short_timeouts(monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")

    options = runpy.run_path(SETTINGS_FILE)["CACHES"]["default"]["OPTIONS"]

    assert 0 < options["socket_connect_timeout"] <= 0.5
    assert 0 < options["socket_timeout"] <= 0.5


SIGNUP = {
    "username": "newcomer",
    "email": "newcomer@example.com",
    "password1": "a-good-passphrase-77",
    "password2": "a-good-passphrase-77",
}


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("login", {"username": "alice", "password": PASSWORD}, HTTPStatus.FOUND),
        ("login", {"username": "alice", "password": "wrong"}, HTTPStatus.OK),
        ("password_reset", {"email": "alice@example.com"}, HTTPStatus.FOUND),
        ("signup", SIGNUP, HTTPStatus.FOUND),
        ("api_password_reset", {"email": "alice@example.com"}, HTTPStatus.OK),
    ],
    ids=["login", "failed-login", "reset", "signup", "api-reset"],
)
def test_with_redis_down_every_form_still_answers(client, user, redis_down, name, data, expected):
    as_json = {"content_type": "application/json"} if name.startswith("api_") else {}

    response = client.post(reverse(name), data, **as_json)

    assert response.status_code == expected


def test_a_redis_that_accepts_but_never_answers_costs_one_short_timeout(
    client, db, settings, monkeypatch
):
    with socket.create_server(("127.0.0.1", 0)) as silent:  # listens, never replies
        monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        settings.CACHES = runpy.run_path(SETTINGS_FILE)["CACHES"]
        started = time.monotonic()
        first = post_reset(client, ip="203.0.113.1")
        waited = time.monotonic() - started
        started = time.monotonic()
        then = [post_reset(client, ip="203.0.113.1") for _ in range(2)]
        then_took = time.monotonic() - started

    assert [r.status_code for r in (first, *then)] == [HTTPStatus.FOUND] * 3
    assert 0.5 <= waited < 3  # the socket timeout, once
    assert then_took < 0.5  # not again: Redis is left alone during the back-off


def test_with_redis_down_the_limits_still_hold_in_the_process(client, db, redis_down):
    codes = [post_reset(client, ip="203.0.113.1").status_code for _ in range(11)]

    assert codes == [HTTPStatus.FOUND] * 10 + [HTTPStatus.TOO_MANY_REQUESTS]


def test_with_redis_down_the_log_in_locks_still_hold(client, user, redis_down):
    for n in range(5):
        client.post(
            reverse("login"), {"username": "alice", "password": "x"}, REMOTE_ADDR=f"{n}.1.1.1"
        )

    locked = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})

    assert locked.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_a_redis_outage_is_logged_once_and_redis_tried_again_later(
    client, db, redis_down, caplog, monkeypatch
):
    from django.core.cache.backends.redis import RedisCacheClient

    from auth_flow.protection import ratelimit

    tries = []
    get_client = RedisCacheClient.get_client
    monkeypatch.setattr(
        RedisCacheClient, "get_client", lambda *a, **kw: tries.append(1) or get_client(*a, **kw)
    )
    with caplog.at_level(logging.WARNING, logger="auth_flow.protection.ratelimit"):
        for _ in range(5):
            post_reset(client, ip="203.0.113.1")
        assert len(tries) == 1  # then left alone for the back-off
        monkeypatch.setattr(ratelimit, "_redis_down_until", time.monotonic() - 1)  # 30 s on
        post_reset(client, ip="203.0.113.1")

    assert len(tries) == 2
    warnings = [r for r in caplog.records if r.name == "auth_flow.protection.ratelimit"]
    assert len(warnings) == 1
    assert "Redis does not answer (ConnectionError)" in warnings[0].getMessage()


def test_health_says_the_cache_is_degraded_while_redis_is_down(client, db, redis_down):
    response = client.get(reverse("health"))

    assert response.status_code == HTTPStatus.OK
    assert response.json()["cache"] == "degraded"


def test_health_says_the_cache_is_ok_on_redis(client, db, redis_cache):
    response = client.get(reverse("health"))

    assert response.status_code == HTTPStatus.OK
    assert response.json()["cache"] == "ok"


def test_health_says_the_cache_is_ok_in_memory(client, db):
    assert client.get(reverse("health")).json()["cache"] == "ok"


def test_counting_returns_to_redis_once_it_answers(redis_cache):
    from auth_flow.protection import ratelimit

    ratelimit._redis_failed(ConnectionError("down"))  # as if it had just failed
    ratelimit._redis_down_until = time.monotonic() - 1  # and the back-off has passed
    key = uuid.uuid4().hex

    rate_limit_hit(scope="test", key=key, rate=Rate(2, 60))

    assert ratelimit._redis_down_until == 0.0
    assert redis_cache.get(redis_key("test", key)) == b"1"
