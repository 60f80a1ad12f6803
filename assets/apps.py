from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "assets"
    verbose_name = "Fleet"

    def ready(self):
        from django.db.models import Field, ForeignObject

        from assets.lookups import AnyOf
        Field.register_lookup(AnyOf)
        ForeignObject.register_lookup(AnyOf)  # relations keep lookups of their own (asset_id__any)
