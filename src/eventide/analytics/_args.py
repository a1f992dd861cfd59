"""Checks of the caller's text arguments before they reach either store."""

from __future__ import annotations

from eventide.errors import InvalidInput


def checked_text(name: str, value: str | None) -> str | None:
    """``value`` unchanged, unless neither store can hold it (U+0000, unpaired surrogates):
    no stored event can match it, and the engines would fail on it."""
    if value is None:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{name} is not valid Unicode text") from None
    if "\x00" in value:
        raise InvalidInput(f"{name} must not contain U+0000")
    return value
