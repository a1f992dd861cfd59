"""Lua scripts go to Redis once and are then called by their digest."""

from __future__ import annotations

from eventide.storage.engines import Engines
from eventide.storage.redis import script

ECHO = "return ARGV[1]"


async def test_a_script_is_registered_once_per_client(engines: Engines) -> None:
    first = script(engines.redis, ECHO)
    assert script(engines.redis, ECHO) is first
    assert script(engines.redis, "return 2") is not first
    assert await first(args=["hello"]) == b"hello"
    # Loaded by the call above, so the next ones send only the digest.
    assert await engines.redis.script_exists(first.sha) == [True]


async def test_a_server_that_lost_its_scripts_is_given_the_text_again(engines: Engines) -> None:
    echo = script(engines.redis, ECHO)
    assert await echo(args=["before"]) == b"before"
    await engines.redis.script_flush()
    assert await engines.redis.script_exists(echo.sha) == [False]
    assert await echo(args=["after"]) == b"after"
    assert await engines.redis.script_exists(echo.sha) == [True]
