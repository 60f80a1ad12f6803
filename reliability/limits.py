"""Limits on what a client may send, each refused with a JSON 4xx that says which limit and how much: the body's size
(413), the nesting depth of JSON, NUL characters in it or in the URL (400). The batch size and string lengths are
checked where the fields are (the fault endpoint, the serializers); unknown fields by dam.serializers."""
import io

from django.conf import settings
from django.http import JsonResponse
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class RequestLimitsMiddleware:
    """Before anything else reads the request: refuse a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE (413), and a
    URL holding a NUL character (400: no name or filter value can contain one, and PostgreSQL could not compare it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return JsonResponse({"detail": "NUL characters (%00) are not allowed in URLs."}, status=400)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Content-Length is not a number."}, status=400)
        if limit is not None and length > limit:
            return JsonResponse({"detail": f"Request body too large: {length} bytes; at most {limit}.",
                                 "limit": limit}, status=413)
        return self.get_response(request)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing documents nested deeper than DAM_MAX_JSON_DEPTH, and NUL characters in strings
    (PostgreSQL cannot store them, in text or in JSON)."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DAM_MAX_JSON_DEPTH
        too_deep = f"JSON nested too deeply: at most {limit} levels."
        raw = stream.read()
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            raise ParseError(too_deep) from None
        if depth(data, stop_after=limit) > limit:
            raise ParseError(too_deep)
        # JSON refuses a raw control character in a string, so a NUL can only come escaped: a body without
        # "\u0000" in it has none, and its strings need not be read one by one (a 1,000-fault batch has 6,000).
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        if "\\u0000" in raw.decode(encoding, errors="replace") and holds_nul(data):
            raise ParseError("JSON strings may not contain NUL characters (\\u0000).")
        return data


def depth(value, *, stop_after: int) -> int:
    """How deep objects and arrays nest in `value` (a scalar is 0; counting stops past `stop_after`)."""
    deepest = 0
    stack = [(value, 1)] if value.__class__ in (dict, list) else []
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > stop_after:
            break
        for child in item.values() if item.__class__ is dict else item:
            if child.__class__ is dict or child.__class__ is list:
                stack.append((child, level + 1))
    return deepest


def holds_nul(value) -> bool:
    """Whether a string in `value` (a key or a value, at any depth) holds a NUL character."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
