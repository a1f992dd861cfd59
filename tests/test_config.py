from __future__ import annotations

from pathlib import Path

import pytest

from eventide.config import ConfigError, load_settings


def test_defaults_in_development_generate_and_keep_a_secret(tmp_path: Path) -> None:
    env = {"EVENTIDE_DATA_DIR": str(tmp_path)}
    first = load_settings(env)
    assert first.port == 8000
    assert first.hot_window_days == 7
    assert first.archive_interval_seconds == 300
    assert len(first.jwt_secret.encode()) >= 32
    assert load_settings(env).jwt_secret == first.jwt_secret
    assert (tmp_path / "jwt-secret").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("EVENTIDE_PORT", "eighty"),
        ("EVENTIDE_PORT", "70000"),
        ("EVENTIDE_HOT_WINDOW_DAYS", "0"),
        ("EVENTIDE_RETENTION_DAYS", "0"),
        ("EVENTIDE_RETENTION_DAYS", "a year"),
        ("EVENTIDE_ENV", "staging"),
        ("EVENTIDE_DATABASE_URL", "mysql://x"),
        ("EVENTIDE_CLICKHOUSE_URL", "http://localhost:8123"),
        ("EVENTIDE_LOG_LEVEL", "chatty"),
        ("EVENTIDE_PERSISTED_QUERY_TTL_SECONDS", "0"),
        ("EVENTIDE_PERSISTED_QUERY_MAX_BYTES", "100"),
        ("EVENTIDE_PERSISTED_QUERY_MAX_BYTES", str(1024 * 1024 + 1)),
    ],
)
def test_a_bad_value_names_its_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({"EVENTIDE_DATA_DIR": str(tmp_path), name: value})


def test_production_refuses_a_missing_or_short_secret(tmp_path: Path) -> None:
    base = {"EVENTIDE_DATA_DIR": str(tmp_path), "EVENTIDE_ENV": "production"}
    with pytest.raises(ConfigError, match="EVENTIDE_JWT_SECRET"):
        load_settings(base)
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        load_settings({**base, "EVENTIDE_JWT_SECRET": "short"})
    settings = load_settings({**base, "EVENTIDE_JWT_SECRET": "x" * 32})
    assert settings.is_production
    assert not (tmp_path / "jwt-secret").exists()


def test_secret_is_not_in_repr(tmp_path: Path) -> None:
    settings = load_settings(
        {"EVENTIDE_DATA_DIR": str(tmp_path), "EVENTIDE_JWT_SECRET": "s3cr3t-" * 6}
    )
    assert "s3cr3t" not in repr(settings)


def test_retention_is_off_unless_set(tmp_path: Path) -> None:
    assert load_settings({"EVENTIDE_DATA_DIR": str(tmp_path)}).retention_days is None
    env = {"EVENTIDE_DATA_DIR": str(tmp_path), "EVENTIDE_RETENTION_DAYS": "400"}
    settings = load_settings(env)
    assert (settings.retention_days, settings.retention_now) == (400, None)


def test_dedup_window_never_shorter_than_hot_window(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="EVENTIDE_DEDUP_WINDOW_DAYS"):
        load_settings(
            {
                "EVENTIDE_DATA_DIR": str(tmp_path),
                "EVENTIDE_HOT_WINDOW_DAYS": "10",
                "EVENTIDE_DEDUP_WINDOW_DAYS": "5",
            }
        )


def test_login_limits_are_read_from_the_environment(tmp_path: Path) -> None:
    defaults = load_settings({"EVENTIDE_DATA_DIR": str(tmp_path)})
    assert (
        defaults.login_attempts,
        defaults.login_address_attempts,
        defaults.login_username_attempts,
    ) == (10, 50, 200)
    settings = load_settings(
        {
            "EVENTIDE_DATA_DIR": str(tmp_path),
            "EVENTIDE_LOGIN_ADDRESS_ATTEMPTS": "30",
            "EVENTIDE_LOGIN_USERNAME_ATTEMPTS": "500",
        }
    )
    assert (settings.login_address_attempts, settings.login_username_attempts) == (30, 500)
    with pytest.raises(ConfigError, match="EVENTIDE_LOGIN_USERNAME_ATTEMPTS"):
        load_settings({"EVENTIDE_DATA_DIR": str(tmp_path), "EVENTIDE_LOGIN_USERNAME_ATTEMPTS": "0"})


def test_persisted_query_bounds_are_read(tmp_path: Path) -> None:
    base = {"EVENTIDE_DATA_DIR": str(tmp_path)}
    defaults = load_settings(base)
    assert defaults.persisted_query_ttl_seconds == 7 * 24 * 3600
    assert defaults.persisted_query_max_bytes == 32 * 1024
    settings = load_settings(
        {
            **base,
            "EVENTIDE_PERSISTED_QUERY_TTL_SECONDS": "60",
            "EVENTIDE_PERSISTED_QUERY_MAX_BYTES": "4096",
        }
    )
    assert settings.persisted_query_ttl_seconds == 60
    assert settings.persisted_query_max_bytes == 4096
