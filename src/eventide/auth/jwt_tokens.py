"""Access tokens: short-lived HS256 JWTs with every registered claim checked."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt

from eventide.auth.ids import parse_id
from eventide.config import Settings

ALGORITHM = "HS256"
ACCESS_TYPE = "access"
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "jti", "typ", "sub", "epoch"]


class InvalidAccessToken(Exception):
    """The token is malformed, forged, expired or not an access token."""


@dataclass(frozen=True, kw_only=True)
class AccessClaims:
    user_id: str
    token_id: str
    session_epoch: int
    issued_at: int
    expires_at: int
    # The refresh-token family (the login) the token was issued in; revoking the family
    # revokes the token. None for tokens minted outside a login.
    family_id: str | None = None


def issue_access_token(
    settings: Settings, *, user_id: str, session_epoch: int, family_id: str | None = None
) -> str:
    now = int(time.time())
    claims = {
        "sub": user_id,
        "epoch": session_epoch,
        "iat": now,
        "exp": now + settings.access_token_ttl_seconds,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "jti": uuid.uuid4().hex,
        "typ": ACCESS_TYPE,
    }
    if family_id is not None:
        claims["fam"] = family_id
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def decode_access_token(settings: Settings, token: str) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            # Pinned: a token may not choose its own algorithm ("none", RS256 with our key...).
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": _REQUIRED_CLAIMS},
        )
    except jwt.PyJWTError as error:
        raise InvalidAccessToken(type(error).__name__) from None
    if claims["typ"] != ACCESS_TYPE:
        raise InvalidAccessToken("not an access token")
    sub, jti, epoch, fam = claims["sub"], claims["jti"], claims["epoch"], claims.get("fam")
    if not isinstance(jti, str) or type(epoch) is not int or parse_id(sub) is None:
        raise InvalidAccessToken("malformed claims")
    family = None if fam is None else parse_id(fam)
    if fam is not None and family is None:
        raise InvalidAccessToken("malformed claims")
    return AccessClaims(
        user_id=sub,
        token_id=jti,
        session_epoch=epoch,
        issued_at=int(claims["iat"]),
        expires_at=int(claims["exp"]),
        family_id=family.hex if family else None,
    )
