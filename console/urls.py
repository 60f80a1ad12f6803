"""The console's own pages, under /admin/ beside the admin's (dam/urls.py mounts them before admin.site.urls)."""
from django.contrib import admin
from django.urls import path

from console import tokens, two_factor, views

app_name = "console"
urlpatterns = [
    path("dashboard/", admin.site.admin_view(views.dashboard_page), name="dashboard"),
    path("dashboard/data/", admin.site.admin_view(views.dashboard_data), name="dashboard-data"),
    path("2fa/", admin.site.admin_view(two_factor.second_factor_page), name="second-factor"),
    path("tokens/", admin.site.admin_view(tokens.tokens_page), name="tokens"),
    path("tokens/revoke/", admin.site.admin_view(tokens.token_revoke), name="token-revoke"),
]
