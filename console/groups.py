"""The console's two groups: `hardware staff` act on the fleet, `viewer` only look.

Both need `is_staff` to log in to the console. What each may do is plain Django model permissions, so the admin
shows a viewer every page without a single button that changes something, and the lifecycle's transition guard
(`assets.change_asset`) keeps the transition buttons from them.
"""
HARDWARE_STAFF = "hardware staff"
VIEWER = "viewer"

# The apps whose records the console shows; a viewer may view every model in them.
FLEET_APPS = ("assets", "repairs", "inspection", "integrations")

# What hardware staff do besides looking: move assets through the lifecycle and import inventory (asset add and
# change), work the ticket queue (ticket change), decide isolations that wait for approval.
STAFF_ACTS = {
    "assets": ["add_asset", "change_asset", "change_isolationrequest"],
    "repairs": ["change_repairticket"],
}


def groups_sync(apps=None, verbosity: int = 0) -> None:
    """Create both groups and give them their permissions; safe to run any number of times."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    apps = apps or global_apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    # In a migration the permissions of freshly migrated models do not exist yet (Django adds them after the
    # whole migrate run): create them first.
    for label in ("auth", "contenttypes", *FLEET_APPS):
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        config.models_module = getattr(config, "models_module", None) or True
        create_permissions(config, verbosity=verbosity, apps=apps)

    view = Permission.objects.filter(content_type__app_label__in=FLEET_APPS, codename__startswith="view_")
    acts = Permission.objects.none()
    for app_label, codenames in STAFF_ACTS.items():
        acts |= Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)

    viewer, _ = Group.objects.get_or_create(name=VIEWER)
    viewer.permissions.add(*view)
    staff, _ = Group.objects.get_or_create(name=HARDWARE_STAFF)
    staff.permissions.add(*view, *acts)


def groups_sync_after_migrate(sender, app_config=None, using="default", apps=None, verbosity=0, **kwargs):
    # Once per migrate run: after the last app's post_migrate, when every app's permissions exist.
    if sender.name != "console":
        return
    groups_sync(apps=apps, verbosity=verbosity)
