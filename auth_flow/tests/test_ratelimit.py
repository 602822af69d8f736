import os
import uuid
from http import HTTPStatus

import pytest
from django.test import RequestFactory
from django.urls import reverse

from auth_flow.ratelimit import Rate, client_ip, rate_limit_hit


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
    assert b"1 minute and" in response.content


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


def test_the_limiter_works_on_redis(settings):
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set")
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis answers at {url}")
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    }
    rate = Rate(count=2, seconds=60)
    key = uuid.uuid4().hex  # a fresh counter, without flushing a shared Redis

    hits = [rate_limit_hit(scope="test", key=key, rate=rate) for _ in range(3)]

    assert hits == [False, False, True]
