"""Outside systems that speak their own format into DAM."""
from django.urls import re_path

from integrations.api.views import AlertmanagerReceiver

# The trailing slash is optional, as for the router's endpoints: a redirect would turn Alertmanager's POST into a GET.
urlpatterns = [
    re_path(r"^alertmanager/?$", AlertmanagerReceiver.as_view(), name="alertmanager-receiver"),
]
