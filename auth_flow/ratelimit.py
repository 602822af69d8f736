"""Fixed-window rate limits in Django's cache (Redis when REDIS_URL is set) or the database.

Limits are keyed by client IP in the request path (which says nothing about whether an
address has an account), in the cache; and by a hash of the address in the workers (so
nobody can flood one inbox from many IPs), in the database, which every worker process
on every machine shares even when the cache is one process's memory.
"""

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.http import HttpRequest

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


def _redis_client(cache_key: str):
    """Return the raw Redis client and key behind Django's cache, or None for others."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    raw_key = backend.make_and_validate_key(cache_key)
    return backend._cache.get_client(raw_key, write=True), raw_key


def rate_window_count(*, scope: str, key: str, rate: Rate) -> Window:
    """Count one event for this key in the current window."""
    cache_key = _cache_key(scope=scope, key=key)
    if redis := _redis_client(cache_key):
        client, raw_key = redis
        count, ttl = client.eval(REDIS_HIT, 1, raw_key, rate.seconds)
        return Window(int(count), int(ttl))
    # In one process's memory (LocMem) add() and incr() hold the cache's lock; the
    # window's end is kept beside the count so limits can say when to try again.
    ends = time.time() + rate.seconds
    cache.add(f"{cache_key}:ends", ends, timeout=rate.seconds)
    cache.add(cache_key, 0, timeout=rate.seconds)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        cache.set(f"{cache_key}:ends", ends, timeout=rate.seconds)
        cache.set(cache_key, 1, timeout=rate.seconds)
        count = 1
    ends = cache.get(f"{cache_key}:ends", ends)
    return Window(count, max(1, round(ends - time.time())))


def rate_window_peek(*, scope: str, key: str) -> Window:
    """Read a key's count without counting an event."""
    cache_key = _cache_key(scope=scope, key=key)
    if redis := _redis_client(cache_key):
        client, raw_key = redis
        count, ttl = client.get(raw_key), client.ttl(raw_key)
        return Window(int(count or 0), max(0, int(ttl)))
    count, ends = cache.get(cache_key, 0), cache.get(f"{cache_key}:ends", 0)
    return Window(count, max(0, round(ends - time.time())) if count else 0)


def rate_window_clear(*, scope: str, key: str) -> None:
    """Forget a key's count."""
    cache_key = _cache_key(scope=scope, key=key)
    cache.delete_many([cache_key, f"{cache_key}:ends"])


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
