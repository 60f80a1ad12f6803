"""Start the test identity provider: `python -m tests.oidc_site.serve CONFIG.json PORT`.

CONFIG names the database file, DAM's client (id, secret, redirect URI) and the users with their groups. The site
is migrated, given an RSA signing key, and served by Django's development server on 127.0.0.1:PORT until killed.
"""
import json
import os
import sys


def main(config_path: str, port: str) -> None:
    config = json.loads(open(config_path).read())
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.oidc_site.settings"
    os.environ["OIDC_SITE_DB"] = config["database"]
    os.environ["OIDC_SITE_URL"] = f"http://127.0.0.1:{port}"
    import django
    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from oidc_provider.models import Client, ResponseType

    call_command("migrate", verbosity=0, interactive=False)
    call_command("creatersakey")
    for spec in config["clients"]:
        client = Client.objects.create(name=spec["client_id"], client_type="confidential", client_id=spec["client_id"],
                                       client_secret=spec["client_secret"], jwt_alg="RS256", require_consent=False,
                                       reuse_consent=True)
        client.redirect_uris = spec["redirect_uris"]
        client.save()
        client.response_types.add(ResponseType.objects.get(value="code"))
    for spec in config["users"]:
        user = User.objects.create_user(spec["username"], email=spec.get("email", ""), password=spec["password"],
                                        first_name=spec.get("first_name", ""), last_name=spec.get("last_name", ""))
        user.groups.add(*[Group.objects.get_or_create(name=name)[0] for name in spec.get("groups", [])])
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, use_threading=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
