"""The lifecycle's jobs moved from dam/tasks.py to lifecycle/tasks.py: jobs still owed keep their new names."""
from django.db import migrations
from django.db.models import Value
from django.db.models.functions import Replace


def rename(apps, schema_editor, old="dam.tasks.", new="lifecycle.tasks."):
    OutboxJob = apps.get_model("reliability", "OutboxJob")
    OutboxJob.objects.filter(task__startswith=old).update(task=Replace("task", Value(old), Value(new)))


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, old="lifecycle.tasks.", new="dam.tasks.")


class Migration(migrations.Migration):
    dependencies = [("reliability", "0001_initial")]
    operations = [migrations.RunPython(rename, rename_back)]
