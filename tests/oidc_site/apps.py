from django.apps import AppConfig


class OidcSiteConfig(AppConfig):
    name = "tests.oidc_site"
    label = "oidc_site"

    def ready(self):
        from tests.oidc_site import hooks  # noqa: F401  (connects the signal)
