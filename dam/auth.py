"""API token authentication: django-rest-knox's, made cheaper per request."""
from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.models import get_token_model
from knox.signals import token_expired


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's, without its sweep of the token owner's *other* tokens on every request (one more query per request,
    and every detector request pays it). The presented token is still refused, and deleted, once expired; the
    others are deleted by the hourly purge job (purge_expired_tokens). knox has no setting for this, so it overrides
    knox's private _cleanup_token: check it again when upgrading django-rest-knox (pinned in requirements.txt)."""

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


def purge_expired_tokens(*, now=None) -> int:
    deleted, _ = get_token_model().objects.filter(expiry__lt=now or timezone.now()).delete()
    return deleted


class TokenScheme(KnoxTokenScheme):
    """The API schema documents it as the knox token it is ("Authorization: Token <token>")."""

    target_class = "dam.auth.TokenAuthentication"
