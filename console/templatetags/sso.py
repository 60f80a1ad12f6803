"""The "Sign in with …" button on the console's login page, shown when single sign-on is configured."""
from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.http import urlencode

register = template.Library()


@register.inclusion_tag("console/sso_button.html")
def sso_sign_in(next_url=""):
    if not settings.DAM_OIDC_ENABLED:
        return {"enabled": False}
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    return {"enabled": True, "url": reverse("console:oidc-start") + query, "provider": settings.DAM_OIDC_PROVIDER_NAME}
