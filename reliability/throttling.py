"""Throttling per API token, counted in the shared cache (Redis when the broker is Redis; see settings.CACHES), so
every web process and machine counts the same token together. If the cache cannot be reached, requests are let through
(throttling protects the service; it must not be the thing that takes it down)."""
import logging
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import SimpleRateThrottle

log = logging.getLogger(__name__)


class TokenRateThrottle(SimpleRateThrottle):
    """DAM_THROTTLE_RATE requests per token (e.g. "1200/min"); a session (admin, docs) counts per user.

    A fixed window: one counter per token and window (a minute for "/min"), incremented and given its expiry in one
    Redis round trip (INCR + EXPIRE, pipelined), instead of DRF's list of timestamps read and written back whole on
    every request. A client may spend its allowance at the end of one window and again at the start of the next;
    the rate protects the service, it is no exact quota. Retry-After says when the window ends."""

    scope = "token"

    def get_rate(self):
        return settings.DAM_THROTTLE_RATE or None

    def allow_request(self, request, view):
        self.rate = self.get_rate()  # read per request, so a settings change (and a test) takes effect
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        self.window_ends = (window + 1) * self.duration
        try:
            count = _count(f"{self.key}:{window}", expires=int(self.window_ends - now) + 1)
        except Exception as exc:  # the cache is unreachable: serve rather than refuse everyone
            log.warning("throttling skipped, the cache is unavailable: %s", exc)
            return True
        return count <= self.num_requests

    def wait(self):
        return max(self.window_ends - time.time(), 1)

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None  # refused by authentication before this counts
        token = getattr(request.auth, "digest", None)  # the stored hash of a knox token
        ident = f"token:{token[:32]}" if token else f"user:{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


def _count(key: str, *, expires: int) -> int:
    """Add one to the window's counter and return it; the counter goes when the window is over."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        real_key = backend.make_and_validate_key(key)
        client = backend._cache.get_client(real_key, write=True)  # Django's own redis-py client for this key
        pipe = client.pipeline(transaction=False)
        pipe.incr(real_key)
        pipe.expire(real_key, expires)
        return pipe.execute()[0]
    # The embedded default (files) and the database cache: two steps, close enough for a single machine.
    backend.add(key, 0, expires)
    try:
        return backend.incr(key)
    except ValueError:  # expired between the two
        backend.set(key, 1, expires)
        return 1
