"""The one rule for a machine's hostname, used by the API, the inventory import, the admin forms and the commands.

A hostname as RFC 1123 (section 2.1) and RFC 952 define it: labels of letters, digits and '-', separated by dots,
each 1 to 63 characters and neither starting nor ending with '-', at most 253 characters in all. A label may start
with a digit (RFC 1123 allows it: `10gbe-sw1`). No trailing dot: DAM names machines, not DNS zones.

No '_': it is valid in some DNS records (SRV, DKIM: `_sip._tcp`), but not in a host's name. The resolver, the
kernel's and systemd's hostname checks, and certificate authorities (CA/Browser Forum ballot SC12, since 2019)
refuse it, so a machine named with '_' could not carry that name on the network, get a TLS certificate for it, or
run the host agent under it. Refusing it here keeps a typo from becoming an asset no host can ever answer for.
"""
import re

from django.core.exceptions import ValidationError

MAX_LENGTH = 253
LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
RULE = ("letters, digits and '-' in dot-separated labels of 1 to 63 characters, no label starting or ending with "
        "'-', at most 253 characters (RFC 1123; no '_')")


def hostname_problem(hostname: str) -> str | None:
    """Why `hostname` is not a valid hostname, or None when it is."""
    if not hostname:
        return "empty"
    if len(hostname) > MAX_LENGTH:
        return f"longer than {MAX_LENGTH} characters"
    for label in hostname.split("."):
        if not label:
            return "empty label (two dots in a row, or a dot at the start or end)"
        if len(label) > 63:
            return f"label '{label[:20]}…' is longer than 63 characters"
        if not LABEL.match(label):
            if "_" in label:
                return f"'_' is not allowed in a hostname (label '{label}')"
            return f"label '{label}' is not {RULE}"
    return None


def validate_hostname(hostname: str) -> None:
    """A Django validator (model forms, DRF serializers) for the rule above."""
    problem = hostname_problem(hostname)
    if problem:
        raise ValidationError(f"'{hostname}' is not a valid hostname: {problem}. A hostname has {RULE}.",
                              code="invalid_hostname")
