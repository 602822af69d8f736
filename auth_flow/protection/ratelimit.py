"""Fixed-window rate limits in Django's cache (Redis when REDIS_URL is set) or the database.

Limits are keyed by client IP in the request path (which says nothing about whether an
address has an account), in the cache; and by a hash of the address in the workers (so
nobody can flood one inbox from many IPs), in the database, which every worker process
on every machine shares even when the cache is one process's memory.

While Redis does not answer, the cache's counters are kept in this process's memory
instead: each process then enforces the limits on its own, and no request fails.
"""

import hashlib
import ipaddress
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.http import HttpRequest
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Seconds to leave Redis alone after it failed to answer: one request in that time pays
# its timeout, not every one.
REDIS_RETRY_SECONDS = 30
# This process's counters while Redis is down.
_fallback = LocMemCache("auth_flow.ratelimit.fallback", {})
# time.monotonic() until which Redis is skipped; 0 while it answers.
_redis_down_until = 0.0

# Count and make sure the window ends, in one step: Django's RedisCache incr() is EXISTS
# then INCR, so a key expiring in between came back with no expiry at all, and blocked
# its IP or address for ever. TTL < 0 also heals such a key left by older code.
REDIS_HIT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Rate":
        """Read "5/900" as five per 900 seconds."""
        count, seconds = text.split("/")
        return cls(int(count), int(seconds))


@dataclass(frozen=True)
class Window:
    """Say how many events a key has counted and how long until its window ends."""

    count: int
    seconds_left: int


def _cache_key(*, scope: str, key: str) -> str:
    digest = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}"


def _redis_backend() -> RedisCache | None:
    """Return Django's cache if it is Redis and not resting after a failure."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache) or time.monotonic() < _redis_down_until:
        return None
    return backend


def _redis_client(backend: RedisCache, cache_key: str):
    """Return the raw Redis client and key behind Django's cache."""
    raw_key = backend.make_and_validate_key(cache_key)
    return backend._cache.get_client(raw_key, write=True), raw_key


def _redis_failed(error: Exception) -> None:
    """Leave Redis alone for a while, saying so when an outage begins."""
    global _redis_down_until
    if not _redis_down_until:
        # Once per outage, not once per request: the next tries are silent.
        logger.warning(
            "Redis does not answer (%s); rate limits count in each process's memory, "
            "trying Redis again every %d s.",
            type(error).__name__,
            REDIS_RETRY_SECONDS,
        )
    _redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS


def _redis_answered() -> None:
    """Count in Redis again, saying so when an outage ends."""
    global _redis_down_until
    if _redis_down_until:
        logger.info("Redis answers again; rate limits count in Redis.")
        _redis_down_until = 0.0


def _memory() -> BaseCache:
    """Return the in-memory cache for counters: Django's own, or ours while Redis is down."""
    return _fallback if isinstance(caches["default"], RedisCache) else cache


def rate_cache_status() -> str:
    """Say whether the counters' cache answers ("ok") or counts in memory ("degraded")."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return "ok"
    try:
        backend._cache.get_client(write=True).ping()
    except RedisError as error:
        _redis_failed(error)
        return "degraded"
    _redis_answered()
    return "ok"


def rate_window_count(*, scope: str, key: str, rate: Rate) -> Window:
    """Count one event for this key in the current window."""
    cache_key = _cache_key(scope=scope, key=key)
    if backend := _redis_backend():
        try:
            client, raw_key = _redis_client(backend, cache_key)
            count, ttl = client.eval(REDIS_HIT, 1, raw_key, rate.seconds)
        except RedisError as error:
            _redis_failed(error)
        else:
            _redis_answered()
            return Window(int(count), int(ttl))
    # In one process's memory (LocMem) add() and incr() hold the cache's lock; the
    # window's end is kept beside the count so limits can say when to try again.
    memory = _memory()
    ends = time.time() + rate.seconds
    memory.add(f"{cache_key}:ends", ends, timeout=rate.seconds)
    memory.add(cache_key, 0, timeout=rate.seconds)
    try:
        count = memory.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        memory.set(f"{cache_key}:ends", ends, timeout=rate.seconds)
        memory.set(cache_key, 1, timeout=rate.seconds)
        count = 1
    ends = memory.get(f"{cache_key}:ends", ends)
    return Window(count, max(1, round(ends - time.time())))


def rate_window_peek(*, scope: str, key: str) -> Window:
    """Read a key's count without counting an event."""
    cache_key = _cache_key(scope=scope, key=key)
    if backend := _redis_backend():
        try:
            client, raw_key = _redis_client(backend, cache_key)
            count, ttl = client.get(raw_key), client.ttl(raw_key)
        except RedisError as error:
            _redis_failed(error)
        else:
            _redis_answered()
            return Window(int(count or 0), max(0, int(ttl)))
    memory = _memory()
    count, ends = memory.get(cache_key, 0), memory.get(f"{cache_key}:ends", 0)
    return Window(count, max(0, round(ends - time.time())) if count else 0)


def rate_window_clear(*, scope: str, key: str) -> None:
    """Forget a key's count."""
    cache_key = _cache_key(scope=scope, key=key)
    keys = [cache_key, f"{cache_key}:ends"]
    if backend := _redis_backend():
        try:
            backend.delete_many(keys)
        except RedisError as error:
            _redis_failed(error)
        else:
            _redis_answered()
    # Also from memory: a count made there during an outage must not outlive a clear.
    _memory().delete_many(keys)


# Take one event back, never below zero nor past the window's end.
REDIS_RELEASE = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


def rate_window_release(*, scope: str, key: str) -> None:
    """Take back one event counted for this key (an attempt that turned out fine).

    Attempts are counted before they are checked, so parallel requests cannot all pass
    a limit they would each have passed alone; one that succeeds is taken back here.
    """
    cache_key = _cache_key(scope=scope, key=key)
    if backend := _redis_backend():
        try:
            client, raw_key = _redis_client(backend, cache_key)
            client.eval(REDIS_RELEASE, 1, raw_key)
        except RedisError as error:
            _redis_failed(error)
        else:
            _redis_answered()
            return
    memory = _memory()
    try:
        if memory.get(cache_key, 0) > 0:
            memory.decr(cache_key)
    except ValueError:  # the window ended meanwhile
        pass


def rate_limit_over(*, scope: str, key: str) -> Window | None:
    """Count one event against the scope's rate (RATE_LIMITS); return its window if over.

    The one place that reads a scope's rate and counts it, for the pages' RateLimitMixin
    and the API's ScopeThrottle alike.
    """
    rate = Rate.parse(settings.RATE_LIMITS[scope])
    window = rate_window_count(scope=scope, key=key, rate=rate)
    return window if window.count > rate.count else None


def rate_limit_hit(*, scope: str, key: str, rate: Rate) -> bool:
    """Count one event for this key and say whether it goes over the rate."""
    return rate_window_count(scope=scope, key=key, rate=rate).count > rate.count


def rate_window_count_shared(*, scope: str, key: str, rate: Rate) -> Window:
    """Count one event for this key in the current window, in the database."""
    from auth_flow.models import RateWindow

    table = connection.ops.quote_name(RateWindow._meta.db_table)
    now = int(time.time())
    # One statement, so it is atomic on its own: a new key starts at 1, an ended window
    # starts again at 1, a live one counts up. SQLite (3.35+) and PostgreSQL alike.
    sql = f"""
        INSERT INTO {table} ("key", "count", "ends_at") VALUES (%s, 1, %s)
        ON CONFLICT ("key") DO UPDATE SET
          "count" = CASE WHEN {table}."ends_at" <= %s THEN 1 ELSE {table}."count" + 1 END,
          "ends_at" = CASE WHEN {table}."ends_at" <= %s
                      THEN excluded."ends_at" ELSE {table}."ends_at" END
        RETURNING "count", "ends_at"
    """  # noqa: S608 (the table name is ours; every value is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, [_cache_key(scope=scope, key=key), now + rate.seconds, now, now])
        count, ends_at = cursor.fetchone()
    return Window(count, max(1, ends_at - now))


def rate_limit_hit_shared(*, scope: str, key: str, rate: Rate) -> bool:
    """Count one event for this key in the database and say whether it goes over the rate."""
    return rate_window_count_shared(scope=scope, key=key, rate=rate).count > rate.count


def rate_windows_prune() -> int:
    """Delete the database's counters whose window has ended."""
    from auth_flow.models import RateWindow

    deleted, _ = RateWindow.objects.filter(ends_at__lte=int(time.time())).delete()
    return deleted


def client_ip(*, request: HttpRequest) -> str:
    """Return the client's IP, trusting X-Forwarded-For only as far as configured."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.headers.get("X-Forwarded-For", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        # Each trusted proxy appends the address it saw; anything further left is
        # whatever the client claimed.
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def client_ip_key(*, request: HttpRequest) -> str:
    """Return what per-IP limits count a client by: its IPv4 address, or its IPv6 /64.

    One IPv6 subscriber or server is usually given a whole /64, so counting single
    addresses would hand each of them 2**64 fresh allowances.
    """
    ip = client_ip(request=request)
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip  # not an address: counted as it is, like any other key
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))
