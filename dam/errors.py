"""Every API error is JSON: {"detail": ...} plus the fields that were wrong. Never an HTML page or a traceback."""
import logging
import sys

from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import JsonResponse
from django.views import defaults
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from assets.conflicts import Conflict

log = logging.getLogger(__name__)
DATABASE_DOWN = "The database is unavailable; try again shortly."
RETRY_AFTER = "5"


def json_exception_handler(exc, context):
    if isinstance(exc, Conflict):
        return Response({"detail": exc.detail, **exc.fields}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, (OperationalError, InterfaceError)):
        log.warning("database unavailable: %s", exc)
        return Response({"detail": DATABASE_DOWN}, status=status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Retry-After": RETRY_AFTER})

    response = exception_handler(exc, context)
    if response is None:
        if isinstance(exc, DatabaseError):
            log.exception("database error")
        return None  # a real bug: Django's 500 handler below answers JSON
    if isinstance(response.data, list):
        response.data = {"detail": " ".join(str(item) for item in response.data), "errors": response.data}
    elif isinstance(response.data, dict) and "detail" not in response.data:
        fields = ", ".join(response.data)
        response.data = {"detail": f"Invalid input: {fields}.", **response.data}
    return response


def not_found(request, exception=None):
    if not request.path.startswith("/api/"):
        return defaults.page_not_found(request, exception)
    return JsonResponse({"detail": f"Not found: {request.path}"}, status=404)


def server_error(request):
    # Outside DRF's views (middleware, the session or token lookup, the admin) a database that is down ends here too.
    if isinstance(sys.exc_info()[1], (OperationalError, InterfaceError)):
        response = JsonResponse({"detail": DATABASE_DOWN}, status=503)
        response["Retry-After"] = RETRY_AFTER
        return response
    return JsonResponse({"detail": "Internal error; it has been logged."}, status=500)


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse({"detail": f"Request body too large: {exception}"}, status=413)
    return JsonResponse({"detail": "Bad request."}, status=400)


def permission_denied(request, exception=None):
    return JsonResponse({"detail": "Permission denied."}, status=403)
