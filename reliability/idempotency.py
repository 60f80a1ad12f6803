"""Idempotency-Key: a POST retried with the same key by the same token owner gets the first answer again.

The first request with a key claims it (a row, committed before the view runs) and stores its answer; a retry with
the same key and the same request replays that answer without acting again; the same key with a different request is
refused with 409, and so is a retry while the first is still running. Answers of 5xx are not kept: the retry runs.
Keys are per token owner and kept DAM_IDEMPOTENCY_TTL_HOURS.
"""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed

from dam.auth import TokenAuthentication
from reliability.models import IdempotentRequest

HEADER = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 255


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.META.get(HEADER)
        if request.method != "POST" or key is None:
            return self.get_response(request)
        owner = token_owner(request)
        if owner is None:  # no valid token: the view answers 401 or 403 as it always does
            return self.get_response(request)
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            return JsonResponse({"detail": f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters."}, status=400)

        record, answer = claim(owner=owner, key=key, request=request)
        if answer is not None:
            return answer
        try:
            response = self.get_response(request)
        except BaseException:
            release(record)
            raise
        if response.status_code >= 500 or response.streaming:
            release(record)  # not an answer worth keeping: a retry runs again
        else:
            record.status_code = response.status_code
            record.content_type = response.get("Content-Type", "")
            record.body = response.content
            record.save(update_fields=["status_code", "content_type", "body"])
        return response


def release(record: IdempotentRequest) -> None:
    try:
        record.delete()
    except DatabaseError:  # the database is down: the row is taken over after DAM_IDEMPOTENCY_LOCK_SECONDS
        pass


def token_owner(request):
    """The user whose API token this request carries, or None. (Knox checks the hash and the expiry.)"""
    try:
        found = TokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None
    return found[0] if found else None


def fingerprint(request) -> str:
    """The same request, whatever the order of its JSON keys or its whitespace, has the same fingerprint."""
    body = request.body
    try:
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, RecursionError):
        pass  # not JSON: compared byte for byte
    digest = hashlib.sha256(f"{request.method} {request.get_full_path()}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def claim(*, owner, key: str, request) -> tuple[IdempotentRequest | None, HttpResponse | None]:
    """(the row this request now owns, None) to go ahead, or (None, the answer to give instead)."""
    now = timezone.now()
    fields = {"fingerprint": fingerprint(request), "method": request.method, "path": request.get_full_path()[:2000]}
    try:
        with transaction.atomic():
            return IdempotentRequest.objects.create(owner=owner, key=key, created_at=now, **fields), None
    except IntegrityError:
        pass
    stored = IdempotentRequest.objects.filter(owner=owner, key=key).first()
    if stored is None:  # purged in between
        return None, retry_later("This Idempotency-Key was just released; send the request again.")

    expired = stored.created_at < now - timedelta(hours=settings.DAM_IDEMPOTENCY_TTL_HOURS)
    abandoned = stored.status_code is None and stored.created_at < now - timedelta(
        seconds=settings.DAM_IDEMPOTENCY_LOCK_SECONDS)
    if expired or abandoned:  # a new request after all: take the row over, unless another retry just did
        taken = IdempotentRequest.objects.filter(pk=stored.pk, created_at=stored.created_at).update(
            created_at=now, status_code=None, content_type="", body=b"", **fields)
        if taken:
            return IdempotentRequest.objects.get(pk=stored.pk), None
        return None, retry_later("A request with this Idempotency-Key is in progress.")

    if stored.fingerprint != fields["fingerprint"]:
        return None, JsonResponse({
            "detail": f"This Idempotency-Key was already used for a different request ({stored.method} "
                      f"{stored.path} with another body); use a new key for a new request.",
            "idempotency_key": key}, status=409)
    if stored.status_code is None:
        return None, retry_later("A request with this Idempotency-Key is in progress.")
    replay = HttpResponse(bytes(stored.body), status=stored.status_code, content_type=stored.content_type or None)
    replay["Idempotent-Replayed"] = "true"
    return None, replay


def retry_later(detail: str) -> JsonResponse:
    response = JsonResponse({"detail": detail}, status=409)
    response["Retry-After"] = "1"
    return response


def purge_expired(*, now=None) -> int:
    now = now or timezone.now()
    deleted, _ = IdempotentRequest.objects.filter(
        created_at__lt=now - timedelta(hours=settings.DAM_IDEMPOTENCY_TTL_HOURS)).delete()
    return deleted
