from __future__ import annotations

from passlib.hash import argon2

from eventide.auth import passwords, users
from eventide.storage.engines import Engines
from tests.graphql._accounts import PASSWORD, login, signup
from tests.graphql_client import GraphQLClient


async def test_hashes_are_argon2id_with_the_chosen_parameters() -> None:
    hashed = await passwords.hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PASSWORD not in hashed
    assert await passwords.verify_password(PASSWORD, hashed) == (True, None)
    assert await passwords.verify_password("something else", hashed) == (False, None)


async def test_an_outdated_hash_is_replaced_at_login(
    client: GraphQLClient, engines: Engines
) -> None:
    await signup(client)
    weak = argon2.using(type="ID", memory_cost=8192, rounds=1, parallelism=1).hash(PASSWORD)
    await engines.db.execute("UPDATE users SET password_hash = $1", weak)
    assert "errors" not in await login(client, "alice")
    user = await users.find_user(engines.db, username="alice")
    assert user is not None
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    # The transparent rehash does not end the user's sessions.
    assert user.session_epoch == 0
    assert "errors" not in await login(client, "alice")


async def test_unknown_users_cost_a_verification() -> None:
    # Nothing to compare against, so the dummy hash must at least be a real one.
    hashed = passwords._dummy_hash()
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    await passwords.burn_verification(PASSWORD)


def test_password_rules() -> None:
    assert passwords.password_problem("1234567") is not None
    assert passwords.password_problem("12345678") is None
    assert passwords.password_problem("x" * 1025) is not None
