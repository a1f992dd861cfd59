from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import replace
from typing import Any

import jwt
import pytest

from eventide.auth.jwt_tokens import (
    InvalidAccessToken,
    decode_access_token,
    issue_access_token,
)
from eventide.config import Settings

SETTINGS = Settings(jwt_secret="s" * 64)
USER = str(uuid.uuid4())


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": USER,
        "epoch": 0,
        "iat": now,
        "exp": now + 600,
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
        "jti": uuid.uuid4().hex,
        "typ": "access",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict[str, Any], key: str = SETTINGS.jwt_secret, alg: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=alg)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_issued_token_round_trips() -> None:
    token = issue_access_token(SETTINGS, user_id=USER, session_epoch=3)
    decoded = decode_access_token(SETTINGS, token)
    assert decoded.user_id == USER
    assert decoded.session_epoch == 3
    assert decoded.expires_at - decoded.issued_at == SETTINGS.access_token_ttl_seconds
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"


def test_a_well_formed_forgery_template_is_accepted() -> None:
    # The forgeries below differ from this one in exactly one respect.
    assert decode_access_token(SETTINGS, sign(claims())).user_id == USER


def test_alg_none_is_refused() -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims()).encode())
    with pytest.raises(InvalidAccessToken):
        decode_access_token(SETTINGS, f"{header}.{body}.")


def test_other_hmac_algorithms_are_refused() -> None:
    with pytest.raises(InvalidAccessToken):
        decode_access_token(SETTINGS, sign(claims(), alg="HS512"))


@pytest.mark.parametrize(
    "token",
    [
        sign(claims(), key="t" * 64),
        sign(claims(aud="someone-else")),
        sign(claims(iss="https://evil.example")),
        sign(claims(exp=int(time.time()) - 5)),
        sign(claims(typ="refresh")),
        sign(claims(sub="not-a-uuid")),
        sign(claims(epoch="0")),
        "garbage",
        "a.b.c",
    ],
    ids=["wrong-key", "aud", "iss", "expired", "typ", "sub", "epoch-type", "garbage", "abc"],
)
def test_forged_or_stale_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidAccessToken):
        decode_access_token(SETTINGS, token)


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "jti", "typ", "sub", "epoch"])
def test_every_claim_is_required(claim: str) -> None:
    token = sign(claims(**{claim: None}))
    with pytest.raises(InvalidAccessToken):
        decode_access_token(SETTINGS, token)


def test_a_token_from_another_deployment_is_refused() -> None:
    other = replace(SETTINGS, jwt_audience="other-api")
    token = issue_access_token(other, user_id=USER, session_epoch=0)
    with pytest.raises(InvalidAccessToken):
        decode_access_token(SETTINGS, token)


def test_the_family_claim_round_trips_and_is_optional() -> None:
    family = uuid.uuid4()
    token = issue_access_token(SETTINGS, user_id=USER, session_epoch=0, family_id=family.hex)
    assert decode_access_token(SETTINGS, token).family_id == family.hex
    assert decode_access_token(SETTINGS, sign(claims(fam=str(family)))).family_id == family.hex
    assert decode_access_token(SETTINGS, sign(claims())).family_id is None


@pytest.mark.parametrize("fam", ["not-a-uuid", 7, ["x"], "x" * 100])
def test_a_malformed_family_claim_is_refused(fam: object) -> None:
    with pytest.raises(InvalidAccessToken):
        decode_access_token(SETTINGS, sign(claims(fam=fam)))
