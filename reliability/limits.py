"""Limits on what a client may send, each refused with a JSON 4xx that says which limit and how much: the body's size
(413), the nesting depth of JSON, NUL characters in it or in the URL (400). The batch size and string lengths are
checked where the fields are (the fault endpoint, the serializers); unknown fields by dam.serializers."""
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
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(too_deep) from None
        deepest, nul = walk(data, stop_after=limit)
        if deepest > limit:
            raise ParseError(too_deep)
        if nul:
            raise ParseError("JSON strings may not contain NUL characters (\\u0000).")
        return data


def walk(value, *, stop_after: int) -> tuple[int, bool]:
    """How deep objects and arrays nest in `value` (a scalar is 0; counting stops past `stop_after`), and whether a
    string in it (key or value) holds a NUL character."""
    deepest, nul = 0, False
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, str):
            nul = nul or "\x00" in item
            continue
        if isinstance(item, dict):
            children = [*item.keys(), *item.values()]
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > stop_after:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest, nul
