"""URLs: the admin console, the REST API v1 with its schema and docs, and the health checks."""
from csp.decorators import csp_replace
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from assets.api.views import (AssetViewSet, FaultViewSet, FleetAutomationView, HardwareModelViewSet,
                              IsolationRequestViewSet, PoolViewSet)
from dam import health
from dam.docs import DocsView
from dam.metrics import MetricsView
from inspection.api.views import AgentInspectionViewSet, BaselineVersionViewSet, InspectionViewSet
from repairs.api.views import RepairTicketViewSet

# The trailing slash is optional: a POST to /api/v1/faults must not be answered with a redirect that turns it
# into a GET and silently drops the faults.
router = DefaultRouter(trailing_slash="/?")
router.register("faults", FaultViewSet)
router.register("assets", AssetViewSet)
router.register("hardware-models", HardwareModelViewSet)
router.register("pools", PoolViewSet)
router.register("tickets", RepairTicketViewSet)
router.register("isolation-requests", IsolationRequestViewSet)
router.register("inspections", InspectionViewSet)
router.register("agent/inspections", AgentInspectionViewSet, basename="agent-inspection")
router.register("baselines", BaselineVersionViewSet)

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", include("console.urls")),  # the fleet dashboard, before the admin's catch-all
    path("admin/", admin.site.urls),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The docs' script is served from its own URL (DocsView is a split view): no inline script under the
    # Content-Security-Policy. Swagger UI alone keeps its inline <style> (scripts stay 'self' only).
    path("api/v1/docs/", csp_replace({"style-src": ["'self'", "'unsafe-inline'"]})(DocsView.as_view(url_name="schema")),
         name="docs"),
    path("api/v1/automation/", FleetAutomationView.as_view(), name="automation"),
    path("api/v1/integrations/", include("integrations.api.urls")),
    path("api/v1/", include(router.urls)),
    path("healthz", health.healthz),
    path("readyz", health.readyz),
    path("metrics", MetricsView.as_view(), name="metrics"),
]

handler400 = "dam.errors.bad_request"
handler403 = "dam.errors.permission_denied"
handler404 = "dam.errors.not_found"
handler500 = "dam.errors.server_error"
