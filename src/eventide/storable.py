"""Text the stores can hold: no U+0000 (PostgreSQL text cannot) and no unpaired
surrogates (no UTF-8 text can carry them, so neither store, Redis nor a hash can)."""

from __future__ import annotations

from eventide.errors import InvalidInput


def text_problem(name: str, value: str, *, allow_nul: bool = False) -> str | None:
    """Why the text argument ``name`` cannot be used as given, or None."""
    if not allow_nul and "\x00" in value:
        return f"{name} must not contain NUL (U+0000) characters"
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            return f"{name} must not contain unpaired surrogate characters"
    return None


def checked_text(name: str, value: str | None) -> str | None:
    """``value`` unchanged, unless the stores cannot hold it: then no stored event can
    match it, and the engines would fail on it (BAD_USER_INPUT)."""
    if value is not None and (problem := text_problem(name, value)):
        raise InvalidInput(problem)
    return value
