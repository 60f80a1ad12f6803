"""Revoke API tokens: one token (given whole), or every token of a user."""
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from knox.crypto import hash_token
from knox.models import AuthToken


class Command(BaseCommand):
    help = "Revoke one API token (pass the token) or all tokens of a user (--user NAME). Prints how many."

    def add_arguments(self, parser):
        parser.add_argument("token", nargs="?", help="The token as issue_token printed it.")
        parser.add_argument("--user", help="Revoke every token of this user.")

    def handle(self, *args, token=None, user=None, **options):
        if bool(token) == bool(user):
            raise CommandError("Give either a token or --user NAME.")
        if user:
            if not User.objects.filter(username=user).exists():
                raise CommandError(f"No user {user!r}.")
            revoked, _ = AuthToken.objects.filter(user__username=user).delete()
        else:
            revoked, _ = AuthToken.objects.filter(digest=hash_token(token.strip())).delete()
            if not revoked:
                raise CommandError("No such token (already revoked or expired?).")
        self.stdout.write(f"revoked {revoked} token{'s' if revoked != 1 else ''}")
