"""JSON logs, one object per line, with the request's identity and no secrets."""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from eventide.config import Settings


@dataclass
class RequestLog:
    """What log lines of one request carry; filled in as the request is understood."""

    request_id: str
    operation: str | None = None
    principal: str | None = None


current_request: contextvars.ContextVar[RequestLog | None] = contextvars.ContextVar(
    "eventide_request", default=None
)

_REDACTED = "[REDACTED]"
_SECRETS = (
    # Authorization headers and bearer credentials, whatever their form.
    (re.compile(r"(?i)\b(bearer|basic)\s+[^\s\"',;]+"), rf"\1 {_REDACTED}"),
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)[^\"',}\n]+"), rf"\1{_REDACTED}"),
    # API tokens and JWTs wherever they appear.
    (re.compile(r"evt_[A-Za-z0-9_\-]+"), f"evt_{_REDACTED}"),
    (re.compile(r"eyJ[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"), _REDACTED),
    # Password and token fields in JSON, GraphQL arguments, query strings and reprs.
    (
        re.compile(
            r"(?i)([\"']?\b\w*(?:password|secret|refresh_?token|api_?key)\w*(?:\\?[\"']|%22)?"
            r"\s*(?:[:=]|%3A|%3D)\s*(?:\\?[\"']|%22)?)[^\"'&,}\s\\%]*"
        ),
        rf"\1{_REDACTED}",
    ),
)
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
}


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrite a record's message, extra fields and traceback without secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for name, value in list(vars(record).items()):
            if name not in _STANDARD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, redact(value))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (request := current_request.get()) is not None:
            entry["request_id"] = request.request_id
            entry["operation"] = request.operation
            entry["principal"] = request.principal
        for name, value in vars(record).items():
            if name not in _STANDARD_ATTRIBUTES and name not in entry:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str)


def log_handler(stream: TextIO | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecrets())
    return handler


def configure_logging(settings: Settings) -> None:
    """Every logger (uvicorn's too) writes JSON lines to stderr at the configured level."""
    root = logging.getLogger()
    for handler in root.handlers[:]:
        root.removeHandler(handler)
    root.addHandler(log_handler())
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
