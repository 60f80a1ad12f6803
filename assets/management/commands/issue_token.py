"""Print a new API token for NAME with a role. For an agent, NAME is the hostname the agent runs on."""
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from knox.models import AuthToken

from dam.roles import ROLES


class Command(BaseCommand):
    help = "Create (or reuse) the user NAME in the given role and print a new API token, alone on one line."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--role", required=True, choices=ROLES)

    def handle(self, *args, name, role, **options):
        if not name.strip():
            raise CommandError("NAME must not be empty.")
        with transaction.atomic():
            user, created = User.objects.get_or_create(username=name)
            if created:
                user.set_unusable_password()
                user.save()
            # One role per token owner: a role change takes the old one away.
            user.groups.remove(*Group.objects.filter(name__in=ROLES).exclude(name=role))
            user.groups.add(Group.objects.get_or_create(name=role)[0])
            _, token = AuthToken.objects.create(user=user, expiry=None)
        self.stdout.write(token)
