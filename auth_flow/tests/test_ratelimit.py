import os
import threading
import time
import uuid
from http import HTTPStatus

import pytest
from django.test import RequestFactory
from django.urls import reverse

from auth_flow.models import RateWindow
from auth_flow.ratelimit import (
    Rate,
    client_ip,
    rate_limit_hit,
    rate_window_count_shared,
    rate_windows_prune,
)
from auth_flow.tests.conftest import at_once


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
        reverse("login"), {"username": "x", "password": "y"}, headers={"HX-Request": "true"}
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

    from auth_flow.ratelimit import _cache_key

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
