"""Password hashing: argon2id with explicit parameters, run off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import functools

from passlib.context import CryptContext
from passlib.exc import PasswordSizeError

from eventide.storable import text_problem

MIN_PASSWORD_LENGTH = 8
# Long enough for any passphrase, short enough that nobody posts megabytes to hash.
MAX_PASSWORD_LENGTH = 1024

# OWASP's argon2id baseline: 19 MiB of memory, 2 passes, 1 lane. Hashes made with other
# parameters still verify, and are replaced at the next successful login.
_CONTEXT = CryptContext(
    schemes=["argon2"],
    argon2__type="ID",
    argon2__memory_cost=19456,
    argon2__rounds=2,
    argon2__parallelism=1,
)


async def hash_password(password: str) -> str:
    result: str = await asyncio.to_thread(_CONTEXT.hash, password)
    return result


async def verify_password(password: str, stored_hash: str) -> tuple[bool, str | None]:
    """Whether ``password`` matches, and a new hash when the stored one is outdated."""
    try:
        ok, new_hash = await asyncio.to_thread(_CONTEXT.verify_and_update, password, stored_hash)
    except PasswordSizeError:
        # Longer than any password that was ever hashed: it matches none.
        return False, None
    return bool(ok), new_hash


async def burn_verification(password: str) -> None:
    """Spend the time of a real verification, so unknown usernames answer as slowly."""
    with contextlib.suppress(PasswordSizeError):
        await asyncio.to_thread(_CONTEXT.verify, password, _dummy_hash())


@functools.cache
def _dummy_hash() -> str:
    result: str = _CONTEXT.hash("not a password of anyone")
    return result


def password_problem(password: str) -> str | None:
    """Why ``password`` is not acceptable as a new password, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be at most {MAX_PASSWORD_LENGTH} characters"
    # U+0000 is fine: only a hash of the password is stored.
    return text_problem("Password", password, allow_nul=True)
