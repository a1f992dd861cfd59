"""Password hashes for accounts the tests create directly in storage.

An argon2id hash costs tens of milliseconds by design; fixtures make hundreds of
accounts, so each distinct password is hashed once per test session. The hash carries
its own salt and parameters, so any number of accounts may share it and still verify.
"""

from __future__ import annotations

from eventide.auth import passwords

_hashes: dict[str, str] = {}


async def password_hash(password: str) -> str:
    """The production hash of ``password``, computed once per session."""
    if password not in _hashes:
        _hashes[password] = await passwords.hash_password(password)
    return _hashes[password]
