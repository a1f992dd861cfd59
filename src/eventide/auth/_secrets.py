"""Random secrets and the digests stored in their place."""

from __future__ import annotations

import hashlib
import secrets

SECRET_BYTES = 32


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(SECRET_BYTES)


def digest(secret: str) -> bytes:
    """SHA-256 is enough here: the secrets are 256 random bits, not guessable passwords."""
    # A presented secret may hold unpaired surrogates: it matches nothing, and fails nothing.
    return hashlib.sha256(secret.encode(errors="surrogatepass")).digest()
