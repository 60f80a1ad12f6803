"""What the test provider says about a user, and the bad tokens it hands out on purpose for a few named users, as a
misconfigured or hostile provider (or a token replayed from elsewhere) would:

- `other-aud`: an ID token for another client (aud = "some-other-app"), properly signed;
- `wrong-nonce`: an ID token whose nonce belongs to another sign-in;
- `late-lee`: codes that have already expired when DAM redeems them (as if the callback had waited 10 minutes).
"""
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone


def userinfo(claims, user):
    claims["preferred_username"] = user.username
    claims["email"] = user.email
    claims["name"] = user.get_full_name() or user.username
    claims["given_name"] = user.first_name
    claims["family_name"] = user.last_name
    return claims


def id_token(id_token, user, **kwargs):
    id_token["groups"] = sorted(user.groups.values_list("name", flat=True))
    if user.username == "other-aud":
        id_token["aud"] = "some-other-app"
    if user.username == "wrong-nonce":
        id_token["nonce"] = "a-nonce-from-another-sign-in"
    return id_token


@receiver(post_save, sender="oidc_provider.Code")
def expire_late_lees_codes(sender, instance, created, **kwargs):
    if created and instance.user.username == "late-lee":
        type(instance).objects.filter(pk=instance.pk).update(expires_at=timezone.now() - timezone.timedelta(minutes=1))
