"""The limit settings read from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from eventide.config import ConfigError, load_settings


def test_defaults(tmp_path: Path) -> None:
    settings = load_settings({"EVENTIDE_DATA_DIR": str(tmp_path)})
    assert (settings.max_query_depth, settings.max_query_aliases) == (10, 15)
    assert settings.max_query_breadth == 100
    assert (settings.max_query_tokens, settings.max_query_cost) == (2000, 10_000)
    assert settings.body_limit_bytes == 5 * 1024 * 1024
    assert settings.query_timeout_seconds == 30.0
    assert settings.cors_origins == ()


def test_the_default_body_limit_is_at_most_5_mib(tmp_path: Path) -> None:
    def limit(**env: str) -> int:
        return load_settings({"EVENTIDE_DATA_DIR": str(tmp_path), **env}).body_limit_bytes

    # Small batches need less than the cap: a full one of the largest events, 1 MiB spare.
    assert limit(EVENTIDE_MAX_BATCH_EVENTS="10") == 10 * 36 * 1024 + 1024 * 1024
    assert limit(EVENTIDE_MAX_BATCH_EVENTS="200") == 5 * 1024 * 1024
    assert limit(EVENTIDE_MAX_BODY_BYTES="40000000") == 40_000_000
    assert limit(EVENTIDE_MAX_BODY_BYTES="2048") == 2048


def test_values_are_read(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "EVENTIDE_DATA_DIR": str(tmp_path),
            "EVENTIDE_MAX_QUERY_DEPTH": "6",
            "EVENTIDE_QUERY_TIMEOUT_SECONDS": "2.5",
            "EVENTIDE_RATE_LIMIT_QUERY_POINTS": "0",
            "EVENTIDE_CORS_ORIGINS": "https://app.example/, http://localhost:3000",
            "EVENTIDE_GRAPHIQL_ASSETS_DIR": "/opt/assets",
        }
    )
    assert settings.graphiql_assets_dir == Path("/opt/assets")
    assert settings.max_query_depth == 6
    assert settings.query_timeout_seconds == 2.5
    assert settings.rate_limit_query_points == 0
    assert settings.cors_origins == ("https://app.example", "http://localhost:3000")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"EVENTIDE_MAX_QUERY_DEPTH": "0"}, "EVENTIDE_MAX_QUERY_DEPTH"),
        ({"EVENTIDE_QUERY_TIMEOUT_SECONDS": "soon"}, "EVENTIDE_QUERY_TIMEOUT_SECONDS"),
        ({"EVENTIDE_SLOW_QUERY_SECONDS": "-1"}, "EVENTIDE_SLOW_QUERY_SECONDS"),
        ({"EVENTIDE_CORS_ORIGINS": "app.example"}, "EVENTIDE_CORS_ORIGINS"),
        (
            {"EVENTIDE_RATE_LIMIT_QUERY_POINTS": "500", "EVENTIDE_MAX_QUERY_COST": "1000"},
            "EVENTIDE_RATE_LIMIT_QUERY_POINTS",
        ),
        ({"EVENTIDE_RATE_LIMIT_EVENTS": "10"}, "EVENTIDE_RATE_LIMIT_EVENTS"),
    ],
)
def test_bad_values_name_their_variable(tmp_path: Path, env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings({"EVENTIDE_DATA_DIR": str(tmp_path), **env})
