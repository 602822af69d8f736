"""Fixed-window rate limits in Django's cache (Redis when REDIS_URL is set).

Limits are keyed by client IP in the request path (which says nothing about whether an
address has an account) and by a hash of the address in the worker (so nobody can
flood one inbox from many IPs).
"""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Rate":
        """Read "5/900" as five per 900 seconds."""
        count, seconds = text.split("/")
        return cls(int(count), int(seconds))


def rate_limit_hit(*, scope: str, key: str, rate: Rate) -> bool:
    """Count one event for this key and say whether it goes over the rate."""
    digest = hashlib.sha256(f"{scope}:{key}".encode()).hexdigest()[:32]
    cache_key = f"ratelimit:{scope}:{digest}"
    # add() only sets a missing key, so the window starts at the first event.
    cache.add(cache_key, 0, timeout=rate.seconds)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        cache.set(cache_key, 1, timeout=rate.seconds)
        count = 1
    return count > rate.count


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
