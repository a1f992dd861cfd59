"""Which media type a GraphQL response is sent in, from the request's ``Accept`` header.

The GraphQL-over-HTTP specification defines two: ``application/graphql-response+json``,
whose status codes tell request errors (4xx) from executed operations (200), and the
older ``application/json``, which answers every GraphQL result with 200. A client that
sends no ``Accept`` header, or only wildcards, gets ``application/json``, as clients
written before the newer type expect; one that names both equally gets the newer one.
"""

from __future__ import annotations

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"

# Tried in this order when two are equally acceptable and named equally precisely.
_NAMED_PREFERENCE = (GRAPHQL_RESPONSE_JSON, JSON)
_WILDCARD_PREFERENCE = (JSON, GRAPHQL_RESPONSE_JSON)
# At most this many media ranges of a header are read; the rest are ignored.
_MAX_RANGES = 32


def response_media_type(accept: str | None) -> str | None:
    """The media type to answer in, or None when the header accepts neither (406)."""
    if accept is None or not accept.strip():
        return JSON
    # For each supported type: (quality, precision) of the most precise matching range.
    # Precision: 2 names the type, 1 is "application/*", 0 is "*/*".
    best: dict[str, tuple[float, int]] = {}
    for media_range in accept.split(",")[:_MAX_RANGES]:
        parsed = _media_range(media_range)
        if parsed is None:
            continue
        name, quality = parsed
        for supported in _NAMED_PREFERENCE:
            precision = _precision(name, supported)
            if precision is None:
                continue
            if supported not in best or precision > best[supported][1]:
                best[supported] = (quality, precision)
    acceptable = {media: match for media, match in best.items() if match[0] > 0}
    if not acceptable:
        return None
    top = max(acceptable.values())
    preference = _NAMED_PREFERENCE if top[1] == 2 else _WILDCARD_PREFERENCE
    return next(media for media in preference if acceptable.get(media) == top)


def _media_range(text: str) -> tuple[str, float] | None:
    """``type/subtype`` in lower case and its ``q`` (1 unless given), or None if malformed."""
    name, *parameters = (part.strip() for part in text.split(";"))
    name = name.lower()
    if name.count("/") != 1:
        return None
    quality = 1.0
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return None
            if not 0 <= quality <= 1:
                return None
    return name, quality


def _precision(media_range: str, media_type: str) -> int | None:
    if media_range == media_type:
        return 2
    if media_range == media_type.split("/", 1)[0] + "/*":
        return 1
    if media_range == "*/*":
        return 0
    return None
