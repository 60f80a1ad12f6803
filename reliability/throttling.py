"""Throttling per API token, counted in the shared cache (Redis when the broker is Redis; see settings.CACHES), so
every web process and machine counts the same token together. If the cache cannot be reached, requests are let through
(throttling protects the service; it must not be the thing that takes it down)."""
import logging

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

log = logging.getLogger(__name__)


class TokenRateThrottle(SimpleRateThrottle):
    """DAM_THROTTLE_RATE requests per token (e.g. "1200/min"); a session (admin, docs) counts per user."""

    scope = "token"

    def get_rate(self):
        return settings.DAM_THROTTLE_RATE or None

    def allow_request(self, request, view):
        self.rate = self.get_rate()  # read per request, so a settings change (and a test) takes effect
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # the cache is unreachable: serve rather than refuse everyone
            log.warning("throttling skipped, the cache is unavailable: %s", exc)
            return True

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None  # refused by authentication before this counts
        token = getattr(request.auth, "digest", None)  # the stored hash of a knox token
        ident = f"token:{token[:32]}" if token else f"user:{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
