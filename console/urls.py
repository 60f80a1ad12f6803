"""The console's own pages, under /admin/ beside the admin's (dam/urls.py mounts them before admin.site.urls)."""
from django.contrib import admin
from django.urls import path

from console import oidc, tokens, two_factor, views

app_name = "console"
urlpatterns = [
    path("dashboard/", admin.site.admin_view(views.dashboard_page), name="dashboard"),
    path("dashboard/data/", admin.site.admin_view(views.dashboard_data), name="dashboard-data"),
    path("2fa/", admin.site.admin_view(two_factor.second_factor_page), name="second-factor"),
    path("tokens/", admin.site.admin_view(tokens.tokens_page), name="tokens"),
    path("tokens/revoke/", admin.site.admin_view(tokens.token_revoke), name="token-revoke"),
    # Single sign-on (OpenID Connect): register <DAM's URL>/admin/oidc/callback/ as the redirect URI at the provider.
    path("oidc/start/", oidc.SsoStartView.as_view(), name="oidc-start"),
    path("oidc/callback/", oidc.SsoCallbackView.as_view(), name="oidc-callback"),
]
