"""The groups `hardware staff` (act) and `viewer` (read only)."""
from django.db import migrations


def create_groups(apps, schema_editor):
    from console.groups import groups_sync

    groups_sync(apps=apps)


def remove_groups(apps, schema_editor):
    from console.groups import HARDWARE_STAFF

    # `viewer` is also the API's read-only role (dam/roles.py): its token owners keep it.
    apps.get_model("auth", "Group").objects.filter(name=HARDWARE_STAFF).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("assets", "0001_initial"),
        ("repairs", "0001_initial"),
        ("inspection", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
