"""API roles. A token's owner is a user in exactly one of these groups; `issue_token` puts it there."""
DETECTOR = "detector"
AGENT = "agent"
STAFF = "staff"
VIEWER = "viewer"
ROLES = (DETECTOR, AGENT, STAFF, VIEWER)


def roles_of(user) -> set[str]:
    if not user or not user.is_authenticated:
        return set()
    cached = getattr(user, "_dam_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        # Django superusers and admin staff act as staff in the API too (the browsable docs, scripts) — except a
        # console login in the viewer group, which only looks, there as here.
        if user.is_superuser or (user.is_staff and VIEWER not in cached):
            cached.add(STAFF)
        user._dam_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))
