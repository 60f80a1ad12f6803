"""API token authentication: django-rest-knox's, made cheaper per request.

A detector posts faults many times a second with the same token, so the token, its owner and the owner's roles are
read with one query and then kept in the shared cache (Redis in production) for DAM_TOKEN_CACHE_SECONDS: a request
then costs one cache read instead of two queries. Revocation still takes effect at once: deleting a token (revoke,
the purge, the console) and changing its owner (deactivated, deleted, given another role) drop the cached copies
(the signals below, connected by reliability/apps.py). The expiry is checked on every request, cached or not. Only a
bulk UPDATE of token rows (no signal) is seen late, after at most DAM_TOKEN_CACHE_SECONDS."""
import binascii
from hmac import compare_digest

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS
from knox.signals import token_expired
from rest_framework import exceptions

from dam.roles import ROLES, roles_of

CACHE_PREFIX = "auth-token:"


def _cache_key(digest: str) -> str:
    return CACHE_PREFIX + digest[:64]


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's, with the token, its owner and the owner's roles in one query, kept in the shared cache, and without
    knox's sweep of the owner's *other* tokens on every request (the hourly purge job deletes those). The
    presented token is still refused, and deleted, once expired. Overrides knox's authenticate_credentials and
    private _cleanup_token: check them again when upgrading django-rest-knox (pinned in requirements.txt)."""

    def authenticate_credentials(self, token):
        refused = exceptions.AuthenticationFailed(_("Invalid token."))
        token = token.decode("utf-8")
        try:
            digest = hash_token(token)
        except (TypeError, binascii.Error):
            raise refused from None
        auth_token = _cached(digest)
        if auth_token is None:
            auth_token = self._load(token, digest)
            if auth_token is None:
                raise refused
        if self._cleanup_token(auth_token):
            raise refused
        return self.validate_user(auth_token)

    @staticmethod
    def _load(token: str, digest: str):
        """The token row, its owner and the owner's roles: one query (a role is an EXISTS each)."""
        memberships = get_user_model().groups.through.objects.filter(user_id=OuterRef("user_id"))
        candidates = get_token_model().objects.filter(token_key=token[:CONSTANTS.TOKEN_KEY_LENGTH]).select_related(
            "user").annotate(**{f"is_{role}": Exists(memberships.filter(group__name=role)) for role in ROLES})
        for auth_token in candidates:
            if compare_digest(digest, auth_token.digest):
                auth_token.user._dam_roles = {role for role in ROLES if getattr(auth_token, f"is_{role}")}
                roles_of(auth_token.user)  # adds staff for a superuser or admin staff login, as everywhere
                _remember(auth_token)
                return auth_token
        return None

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()  # and forgotten by the cache (token_deleted below)
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


def _cached(digest: str):
    if settings.DAM_TOKEN_CACHE_SECONDS <= 0:
        return None
    try:
        auth_token = cache.get(_cache_key(digest))
    except Exception:  # the cache is unreachable: the database answers
        return None
    return auth_token if auth_token is not None and compare_digest(digest, auth_token.digest) else None


def _remember(auth_token) -> None:
    seconds = settings.DAM_TOKEN_CACHE_SECONDS
    if seconds <= 0:
        return
    try:
        cache.set(_cache_key(auth_token.digest), auth_token, seconds)
    except Exception:
        pass  # the cache is unreachable: the next request reads the database again


def forget_tokens(digests) -> None:
    """Drop the cached copies of these tokens: the next request with one of them reads the database."""
    keys = [_cache_key(digest) for digest in digests]
    if keys:
        cache.delete_many(keys)


def token_deleted(sender, instance, **kwargs) -> None:
    forget_tokens([instance.digest])


def user_changed(sender, instance, **kwargs) -> None:
    """A user saved (deactivated, made staff or not) or deleted: their tokens' cached copies go."""
    if instance.pk is not None:
        forget_tokens(get_token_model().objects.filter(user_id=instance.pk).values_list("digest", flat=True))


def groups_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """A role given or taken (user.groups.add/remove/clear, or group.user_set …): those users' cached tokens go."""
    if not action.startswith("post_"):
        return
    # reverse: instance is a group and pk_set its users (None for clear: every member it had is unknown now)
    users = pk_set if reverse else {instance.pk}
    tokens = get_token_model().objects.all() if users is None else get_token_model().objects.filter(
        user_id__in=users)
    forget_tokens(tokens.values_list("digest", flat=True))


def connect_signals() -> None:
    from django.db.models.signals import m2m_changed, post_delete, post_save
    user = get_user_model()
    post_delete.connect(token_deleted, sender=get_token_model(), dispatch_uid="dam.auth.token_deleted")
    post_save.connect(user_changed, sender=user, dispatch_uid="dam.auth.user_saved")
    post_delete.connect(user_changed, sender=user, dispatch_uid="dam.auth.user_deleted")
    m2m_changed.connect(groups_changed, sender=user.groups.through, dispatch_uid="dam.auth.groups_changed")


def purge_expired_tokens(*, now=None) -> int:
    deleted, _ = get_token_model().objects.filter(expiry__lt=now or timezone.now()).delete()
    return deleted


class TokenScheme(KnoxTokenScheme):
    """The API schema documents it as the knox token it is ("Authorization: Token <token>")."""

    target_class = "dam.auth.TokenAuthentication"
