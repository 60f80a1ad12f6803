"""The fleet dashboard: a staff page drawn once from the server's numbers, then kept live by polling JSON."""
from django.contrib import admin
from django.contrib.auth.decorators import permission_required
from django.http import JsonResponse
from django.template.response import TemplateResponse

from console import dashboard

# Anyone who may look at assets in the console may look at the dashboard (both groups, superusers).
may_view_fleet = permission_required("assets.view_asset", raise_exception=True)


def _days(request) -> int:
    try:
        return min(max(int(request.GET.get("days", dashboard.WINDOW_DAYS)), 1), 365)
    except ValueError:
        return dashboard.WINDOW_DAYS


@may_view_fleet
def dashboard_page(request):
    data = dashboard.fleet_dashboard(days=_days(request))
    return TemplateResponse(request, "console/dashboard.html", {
        **admin.site.each_context(request),
        "title": "Fleet dashboard",
        "data": data,
        "states": dashboard.state_legend(),
        "windows": [7, 30, 90],
    })


@may_view_fleet
def dashboard_data(request):
    """`?part=live`: the counts only (polled every few seconds); otherwise every figure of the page."""
    if request.GET.get("part") == "live":
        return JsonResponse(dashboard.live_counts())
    return JsonResponse(dashboard.fleet_dashboard(days=_days(request)))
