"""An asset's BMC: the rules for its address, and its password at rest — encrypted with Fernet (the `cryptography`
package: AES-128-CBC and HMAC-SHA256) under a key that lives outside the database, so a database dump or backup alone
gives no BMC away.

The key comes from DAM_BMC_KEY (production refuses to start without it, dam/settings.py). Several keys, comma
separated, rotate: the first encrypts, any of them decrypts. The embedded default keeps one in DAM_DATA_DIR/bmc_key,
made the first time DAM needs it (never at settings import)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from dam.embedded import write_once

KEY_FILE = "bmc_key"


class PasswordUnreadable(Exception):
    """A stored password that the configured keys cannot decrypt (the key was changed without rotation)."""


def _embedded_key() -> str:
    """The embedded default's key: DATA_DIR/bmc_key, made once. Written whole to a private file, then linked into
    place, so processes starting together (web, worker) never see half a key or make two different ones."""
    path = Path(settings.DATA_DIR) / KEY_FILE
    write_once(path, Fernet.generate_key)
    return path.read_text().strip()


@lru_cache(maxsize=4)
def _fernet(keys: str) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "DAM_BMC_KEY is not a Fernet key (32 url-safe base64-encoded bytes; make one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`).") from exc


def cipher() -> MultiFernet:
    return _fernet(settings.DAM_BMC_KEY or _embedded_key())


def encrypt(password: str) -> str:
    return cipher().encrypt(password.encode()).decode() if password else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return cipher().decrypt(token.encode()).decode()
    except InvalidToken:
        raise PasswordUnreadable("The BMC password cannot be decrypted with DAM_BMC_KEY: set the password again, "
                                 "or list the old key after the new one in DAM_BMC_KEY.") from None


def normalized_url(url: str) -> str:
    """The BMC's Redfish service root as stored: an http(s) URL, a trailing /redfish/v1 dropped (it is implied).
    Credentials in the URL are refused: they would be shown wherever the URL is. ValueError says what is wrong."""
    url = url.strip().rstrip("/")
    if not url:
        return ""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise ValueError("An http:// or https:// URL of the BMC, e.g. https://10.1.2.3.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("An http:// or https:// URL of the BMC, e.g. https://10.1.2.3.")
    if parts.username or parts.password:
        raise ValueError("No credentials in the URL: use bmc_username and bmc_password.")
    if parts.query or parts.fragment:
        raise ValueError("The BMC's address only, without a query or fragment.")
    if url.lower().endswith("/redfish/v1"):
        url = url[: -len("/redfish/v1")]
    return url
