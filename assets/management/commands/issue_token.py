"""Print a new API token for NAME with a role. For an agent, NAME is the hostname the agent runs on.

Tokens are stored hashed (knox): the printed token is shown once and cannot be read back. `--expires-in 90d` makes it
expire; `revoke_token` revokes it earlier.

A token's role is its user's. For an existing user of another role the command refuses (exit 2, naming the user's
role): a new token must not silently promote (or demote) every token the user already holds. `--change-role` changes
the user's role, and with it every token of that user.
"""
import re
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from knox.models import AuthToken

from dam.roles import AGENT, DETECTOR, ROLES

UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def duration(text: str) -> timedelta:
    """'90d', '12h', '30m', '45s' (or plain seconds) as a timedelta."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text)
    if not match or not 0 < int(match[1]) <= 10**9:
        raise ValueError(text)
    length = timedelta(**{UNITS[match[2] or "s"]: int(match[1])})
    if length > timedelta(days=36525):
        raise ValueError(text)
    return length


class Command(BaseCommand):
    help = ("Create (or reuse) the user NAME in the given role and print a new API token, alone on one line. "
            "An existing user of another role is refused unless --change-role.")

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--expires-in", dest="expires_in", metavar="DURATION",
                            help="The token stops working after this long: 90d, 12h, 30m, 45s, or never. Default: never; "
                                 "DAM_MACHINE_TOKEN_EXPIRES_IN for agent and detector tokens (90d in production).")
        parser.add_argument("--change-role", dest="change_role", action="store_true",
                            help="NAME exists with another role: give it this one (every token of NAME follows).")

    def handle(self, *args, name, role, expires_in=None, change_role=False, **options):
        if not name.strip():
            raise CommandError("NAME must not be empty.")
        if expires_in is None and role in (AGENT, DETECTOR):  # a machine's token gets a finite life unless told
            expires_in = settings.DAM_MACHINE_TOKEN_EXPIRES_IN or None
        try:
            expiry = duration(expires_in) if expires_in and expires_in != "never" else None
        except ValueError:
            raise CommandError(f"--expires-in: {expires_in!r} is not a duration such as 90d, 12h, 30m or 45s.")
        with transaction.atomic():
            user, created = User.objects.select_for_update().get_or_create(username=name)
            if created:
                user.set_unusable_password()
                user.save()
            others = sorted(user.groups.filter(name__in=ROLES).exclude(name=role).values_list("name", flat=True))
            if others and not change_role:
                raise CommandError(
                    f"{name} exists with role {', '.join(others)}; its tokens act as {', '.join(others)}. "
                    f"To make {name} (and every token of it) {role}, run again with --change-role.", returncode=2)
            # One role per token owner: a role change takes the old one away.
            user.groups.remove(*Group.objects.filter(name__in=ROLES).exclude(name=role))
            user.groups.add(Group.objects.get_or_create(name=role)[0])
            _, token = AuthToken.objects.create(user=user, expiry=expiry)
        self.stdout.write(token)
