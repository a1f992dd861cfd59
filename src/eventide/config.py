"""Settings read once from ``EVENTIDE_*`` environment variables."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, TypeVar

Environment = Literal["development", "production"]
SignupPolicy = Literal["open", "invite"]
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MIN_SECRET_BYTES = 32
DEFAULT_BODY_CAP_BYTES = 5 * 1024 * 1024
"""The most an unset ``EVENTIDE_MAX_BODY_BYTES`` allows a request body (5 MiB)."""
T = TypeVar("T")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    env: Environment = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path(".eventide")
    database_url: str | None = None
    clickhouse_url: str | None = None
    # A cluster of the ClickHouse server's remote_servers: the cold schema is sharded and
    # replicated across it (see README "Scaling out"). None: one server.
    clickhouse_cluster: str | None = None
    redis_url: str | None = None
    redis_key_prefix: str = "eventide:"
    jwt_secret: str = field(default="", repr=False)
    jwt_issuer: str = "eventide"
    jwt_audience: str = "eventide-api"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    hot_window_days: int = 7
    dedup_window_days: int = 30
    archive_interval_seconds: int = 300
    archive_batch_size: int = 50_000
    # Events that occurred more than this many days ago are removed and never counted
    # (see README "Retention"); None keeps every event.
    retention_days: int | None = None
    # The instant retention counts back from instead of PostgreSQL's now(): never read
    # from the environment, it lets tests put the boundary where they need it.
    retention_now: dt.datetime | None = None
    max_batch_events: int = 1000
    # Failed logins per window: per (username, address), per address, per username
    # (see README "Dashboard users: sessions").
    login_attempts: int = 10
    login_address_attempts: int = 50
    login_username_attempts: int = 200
    login_window_seconds: int = 900
    # "open": anyone may sign up; "invite": only with an invitation. None: "open" in
    # development, "invite" in production.
    signup: SignupPolicy | None = None
    admin_username: str | None = None
    admin_password: str | None = field(default=None, repr=False)
    log_level: str = "INFO"
    database_pool_size: int = 10
    # Bounds on waiting for an engine (see README "Operations"): during an outage a
    # request fails within these instead of hanging.
    database_connect_timeout_seconds: float = 5.0
    database_acquire_timeout_seconds: float = 10.0
    database_command_timeout_seconds: float = 30.0
    redis_timeout_seconds: float = 2.0
    clickhouse_connect_timeout_seconds: float = 5.0
    clickhouse_send_receive_timeout_seconds: float = 30.0
    # Operation limits (see README "Operations").
    max_query_depth: int = 10
    max_query_aliases: int = 15
    max_query_breadth: int = 100
    max_query_tokens: int = 2000
    max_query_cost: int = 10_000
    # None: room for the largest valid ingest batch, at most 5 MiB (see body_limit_bytes).
    max_body_bytes: int | None = None
    query_timeout_seconds: float = 30.0
    # How long a client may take to send a request (see README "HTTP").
    request_header_timeout_seconds: float = 10.0
    request_body_idle_timeout_seconds: float = 10.0
    request_body_timeout_seconds: float = 60.0
    # Automatic persisted queries (see README "Persisted queries"): how long a document
    # stays in Redis after its last use, and the largest document that may be stored.
    persisted_query_ttl_seconds: int = 7 * 24 * 3600
    persisted_query_max_bytes: int = 32 * 1024
    slow_query_seconds: float = 1.0
    # Per principal and per minute, shared by every replica through Redis; 0 disables.
    rate_limit_query_points: int = 60_000
    rate_limit_events: int = 120_000
    # Per project and per minute, whoever asks: many principals cannot together exceed it.
    rate_limit_project_query_points: int = 600_000
    rate_limit_project_events: int = 1_200_000
    cors_origins: tuple[str, ...] = ()
    # Live events (see README "Live events"): concurrent liveEvents subscriptions per
    # principal across every replica, and the events one subscriber may have waiting
    # unsent before it is disconnected as too slow.
    live_max_subscriptions: int = 10
    live_queue_events: int = 10_000
    # Where `npm ci` put GraphiQL's assets; None: node_modules at the project root.
    graphiql_assets_dir: Path | None = None
    # The console's build (`npm run build` in console/); None: console/dist in the project.
    console_assets_dir: Path | None = None

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def signup_policy(self) -> SignupPolicy:
        if self.signup is not None:
            return self.signup
        return "invite" if self.is_production else "open"

    @property
    def body_limit_bytes(self) -> int:
        """``EVENTIDE_MAX_BODY_BYTES``, or what a full batch of the largest valid events
        weighs (32 KiB of properties each plus their other fields, and 1 MiB to spare),
        but no more than :data:`DEFAULT_BODY_CAP_BYTES`: one request holds a whole body in
        memory, and batches of typical events are far smaller."""
        if self.max_body_bytes is not None:
            return self.max_body_bytes
        return min(self.max_batch_events * 36 * 1024 + 1024 * 1024, DEFAULT_BODY_CAP_BYTES)


def _int(minimum: int, maximum: int = 2**31 - 1) -> Callable[[str, str], int]:
    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
        if not minimum <= value <= maximum:
            raise ConfigError(f"{name} must be between {minimum} and {maximum}, got {value}")
        return value

    return parse


def _choice(*allowed: str) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        value = raw.strip()
        if value.upper() in allowed:
            return value.upper()
        if value.lower() in allowed:
            return value.lower()
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")

    return parse


def _url(*schemes: str) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        scheme = raw.split("://", 1)[0] if "://" in raw else ""
        if scheme not in schemes:
            raise ConfigError(f"{name} must be a URL starting with {' or '.join(schemes)}://")
        return raw

    return parse


def _identifier(name: str, raw: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", raw):
        raise ConfigError(f"{name} must be a name of letters, digits and underscores")
    return raw


def _text(name: str, raw: str) -> str:
    return raw


def _seconds(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not 0 < value <= 86400:
        raise ConfigError(f"{name} must be between 0 and 86400 seconds, got {value}")
    return value


def _origins(name: str, raw: str) -> tuple[str, ...]:
    origins = tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ConfigError(f"{name} must list origins like https://app.example.com")
    return origins


def _read(env: Mapping[str, str], name: str, parse: Callable[[str, str], T]) -> T | None:
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    return parse(name, raw)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from the environment; raise :class:`ConfigError` on a bad value."""
    env = os.environ if env is None else env
    specs: dict[str, tuple[str, Callable[[str, str], object]]] = {
        "env": ("EVENTIDE_ENV", _choice("development", "production")),
        "host": ("EVENTIDE_HOST", _text),
        "port": ("EVENTIDE_PORT", _int(0, 65535)),
        "database_url": ("EVENTIDE_DATABASE_URL", _url("postgresql", "postgres")),
        "clickhouse_url": ("EVENTIDE_CLICKHOUSE_URL", _url("clickhouse")),
        "clickhouse_cluster": ("EVENTIDE_CLICKHOUSE_CLUSTER", _identifier),
        "redis_url": ("EVENTIDE_REDIS_URL", _url("redis", "rediss", "unix")),
        "redis_key_prefix": ("EVENTIDE_REDIS_KEY_PREFIX", _text),
        "jwt_secret": ("EVENTIDE_JWT_SECRET", _text),
        "access_token_ttl_seconds": ("EVENTIDE_ACCESS_TOKEN_TTL_SECONDS", _int(30, 86400)),
        "refresh_token_ttl_seconds": ("EVENTIDE_REFRESH_TOKEN_TTL_SECONDS", _int(60)),
        "hot_window_days": ("EVENTIDE_HOT_WINDOW_DAYS", _int(1, 3650)),
        "dedup_window_days": ("EVENTIDE_DEDUP_WINDOW_DAYS", _int(1, 3650)),
        "archive_interval_seconds": ("EVENTIDE_ARCHIVE_INTERVAL_SECONDS", _int(0)),
        "archive_batch_size": ("EVENTIDE_ARCHIVE_BATCH_SIZE", _int(1, 10_000_000)),
        "retention_days": ("EVENTIDE_RETENTION_DAYS", _int(1, 36_500)),
        "max_batch_events": ("EVENTIDE_MAX_BATCH_EVENTS", _int(1, 100_000)),
        "login_attempts": ("EVENTIDE_LOGIN_ATTEMPTS", _int(1)),
        "login_address_attempts": ("EVENTIDE_LOGIN_ADDRESS_ATTEMPTS", _int(1)),
        "login_username_attempts": ("EVENTIDE_LOGIN_USERNAME_ATTEMPTS", _int(1)),
        "login_window_seconds": ("EVENTIDE_LOGIN_WINDOW_SECONDS", _int(1)),
        "signup": ("EVENTIDE_SIGNUP", _choice("open", "invite")),
        "admin_username": ("EVENTIDE_ADMIN_USERNAME", _text),
        "admin_password": ("EVENTIDE_ADMIN_PASSWORD", _text),
        "log_level": ("EVENTIDE_LOG_LEVEL", _choice(*LOG_LEVELS)),
        "database_pool_size": ("EVENTIDE_DATABASE_POOL_SIZE", _int(1, 1000)),
        "database_connect_timeout_seconds": ("EVENTIDE_DATABASE_CONNECT_TIMEOUT_SECONDS", _seconds),
        "database_acquire_timeout_seconds": ("EVENTIDE_DATABASE_ACQUIRE_TIMEOUT_SECONDS", _seconds),
        "database_command_timeout_seconds": ("EVENTIDE_DATABASE_COMMAND_TIMEOUT_SECONDS", _seconds),
        "redis_timeout_seconds": ("EVENTIDE_REDIS_TIMEOUT_SECONDS", _seconds),
        "clickhouse_connect_timeout_seconds": (
            "EVENTIDE_CLICKHOUSE_CONNECT_TIMEOUT_SECONDS",
            _seconds,
        ),
        "clickhouse_send_receive_timeout_seconds": (
            "EVENTIDE_CLICKHOUSE_SEND_RECEIVE_TIMEOUT_SECONDS",
            _seconds,
        ),
        "max_query_depth": ("EVENTIDE_MAX_QUERY_DEPTH", _int(1, 100)),
        "max_query_aliases": ("EVENTIDE_MAX_QUERY_ALIASES", _int(0, 1000)),
        "max_query_breadth": ("EVENTIDE_MAX_QUERY_BREADTH", _int(1, 10_000)),
        "max_query_tokens": ("EVENTIDE_MAX_QUERY_TOKENS", _int(10, 1_000_000)),
        "max_query_cost": ("EVENTIDE_MAX_QUERY_COST", _int(1)),
        "max_body_bytes": ("EVENTIDE_MAX_BODY_BYTES", _int(1024)),
        "query_timeout_seconds": ("EVENTIDE_QUERY_TIMEOUT_SECONDS", _seconds),
        "request_header_timeout_seconds": ("EVENTIDE_REQUEST_HEADER_TIMEOUT_SECONDS", _seconds),
        "request_body_idle_timeout_seconds": (
            "EVENTIDE_REQUEST_BODY_IDLE_TIMEOUT_SECONDS",
            _seconds,
        ),
        "request_body_timeout_seconds": ("EVENTIDE_REQUEST_BODY_TIMEOUT_SECONDS", _seconds),
        "persisted_query_ttl_seconds": ("EVENTIDE_PERSISTED_QUERY_TTL_SECONDS", _int(1)),
        "persisted_query_max_bytes": ("EVENTIDE_PERSISTED_QUERY_MAX_BYTES", _int(256, 1024 * 1024)),
        "slow_query_seconds": ("EVENTIDE_SLOW_QUERY_SECONDS", _seconds),
        "rate_limit_query_points": ("EVENTIDE_RATE_LIMIT_QUERY_POINTS", _int(0)),
        "rate_limit_events": ("EVENTIDE_RATE_LIMIT_EVENTS", _int(0)),
        "rate_limit_project_query_points": ("EVENTIDE_RATE_LIMIT_PROJECT_QUERY_POINTS", _int(0)),
        "rate_limit_project_events": ("EVENTIDE_RATE_LIMIT_PROJECT_EVENTS", _int(0)),
        "cors_origins": ("EVENTIDE_CORS_ORIGINS", _origins),
        "live_max_subscriptions": ("EVENTIDE_LIVE_MAX_SUBSCRIPTIONS", _int(1, 100_000)),
        "live_queue_events": ("EVENTIDE_LIVE_QUEUE_EVENTS", _int(1, 10_000_000)),
    }
    values: dict[str, object] = {}
    for attr, (name, parse) in specs.items():
        value = _read(env, name, parse)
        if value is not None:
            values[attr] = value
    if (data_dir := env.get("EVENTIDE_DATA_DIR")) is not None:
        values["data_dir"] = Path(data_dir)
    if assets := env.get("EVENTIDE_GRAPHIQL_ASSETS_DIR"):
        values["graphiql_assets_dir"] = Path(assets)
    if console := env.get("EVENTIDE_CONSOLE_ASSETS_DIR"):
        values["console_assets_dir"] = Path(console)
    settings = Settings(**values)  # type: ignore[arg-type]

    if settings.dedup_window_days < settings.hot_window_days:
        raise ConfigError(
            "EVENTIDE_DEDUP_WINDOW_DAYS must not be shorter than EVENTIDE_HOT_WINDOW_DAYS"
        )
    if 0 < settings.rate_limit_query_points < settings.max_query_cost:
        # Otherwise a query within the cost budget could never be afforded.
        raise ConfigError(
            "EVENTIDE_RATE_LIMIT_QUERY_POINTS must not be below EVENTIDE_MAX_QUERY_COST"
        )
    if 0 < settings.rate_limit_events < settings.max_batch_events:
        raise ConfigError("EVENTIDE_RATE_LIMIT_EVENTS must not be below EVENTIDE_MAX_BATCH_EVENTS")
    if 0 < settings.rate_limit_project_query_points < settings.max_query_cost:
        raise ConfigError(
            "EVENTIDE_RATE_LIMIT_PROJECT_QUERY_POINTS must not be below EVENTIDE_MAX_QUERY_COST"
        )
    if 0 < settings.rate_limit_project_events < settings.max_batch_events:
        raise ConfigError(
            "EVENTIDE_RATE_LIMIT_PROJECT_EVENTS must not be below EVENTIDE_MAX_BATCH_EVENTS"
        )
    if settings.clickhouse_cluster and not settings.clickhouse_url:
        raise ConfigError("EVENTIDE_CLICKHOUSE_CLUSTER needs EVENTIDE_CLICKHOUSE_URL, a node of it")
    if bool(settings.admin_username) != bool(settings.admin_password):
        raise ConfigError("EVENTIDE_ADMIN_USERNAME and EVENTIDE_ADMIN_PASSWORD go together")
    return _with_secret(settings)


def _with_secret(settings: Settings) -> Settings:
    secret = settings.jwt_secret
    if secret:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(f"EVENTIDE_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        return settings
    if settings.is_production:
        raise ConfigError("EVENTIDE_JWT_SECRET is required in production")
    # Development: one generated secret, kept so that sessions survive restarts.
    path = settings.data_dir / "jwt-secret"
    if path.exists():
        secret = path.read_text().strip()
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(secret)
    return replace(settings, jwt_secret=secret)
