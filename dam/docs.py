"""The browsable API docs: a browser without a token is sent to the console's login and back, not shown a 401."""
from urllib.parse import urlencode

from django.http import HttpResponseRedirect
from django.urls import reverse
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.exceptions import NotAuthenticated
from rest_framework.renderers import JSONRenderer


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI, its script served from its own URL (no inline script under the Content-Security-Policy). The
    page and the schema it loads accept the console's session, so logging in there is enough.
    A script (no text/html in Accept) still gets the API's JSON 401."""

    def handle_exception(self, exc):
        request = self.request
        if (isinstance(exc, NotAuthenticated) and "text/html" in request.headers.get("Accept", "")
                and "Authorization" not in request.headers):
            login = reverse("admin:login")
            return HttpResponseRedirect(f"{login}?{urlencode({'next': request.get_full_path()})}")
        response = super().handle_exception(exc)
        # An error is JSON like every API error, not the docs template rendered around it.
        request.accepted_renderer, request.accepted_media_type = JSONRenderer(), "application/json"
        return response


def one_of_bodies_are_required(result, generator, request, public):
    """drf-spectacular marks a request body required from its serializer's required fields; a body that is one of
    several shapes (a fault or a list of faults) has none, so it came out optional, and a generated client let a
    caller send nothing. Such a body is required. (A SPECTACULAR_SETTINGS postprocessing hook.)"""
    schemas = result.get("components", {}).get("schemas", {})
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            for content in (body or {}).get("content", {}).values():
                ref = content.get("schema", {}).get("$ref", "")
                if "oneOf" in schemas.get(ref.rsplit("/", 1)[-1], {}):
                    body["required"] = True
    return result
