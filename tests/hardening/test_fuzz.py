"""Documents generated from the exported schema: never a 5xx, a trace, or a bare error."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from eventide.graphql.schema import schema
from tests.graphql_client import GraphQLClient

SDL = schema.as_str()
SCALARS = {
    "DateTime": st.datetimes(min_value=dt.datetime(1990, 1, 1), timezones=st.just(dt.UTC)).map(
        lambda value: nodes.String(value.isoformat())
    ),
    "Date": st.dates(min_value=dt.date(1990, 1, 1)).map(nodes.String),
    "BigInt": st.integers(min_value=-(2**60), max_value=2**60).map(nodes.Int),
    "JSON": st.dictionaries(st.text(max_size=5), st.integers(), max_size=3).map(
        lambda value: nodes.String(json.dumps(value))
    ),
}
FUZZ = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


async def check(client: GraphQLClient, document: str, token: str | None) -> None:
    response = await client.post(document, token=token)
    assert response.status_code < 500, (document, response.text)
    for marker in ("Traceback", 'File "', "asyncpg", "SELECT "):
        assert marker not in response.text, (document, response.text)
    body: dict[str, Any] = response.json()
    for error in body.get("errors") or []:
        assert error["extensions"]["code"], (document, error)


@pytest.mark.slow
@pytest.mark.parametrize("mode", [Mode.POSITIVE, Mode.NEGATIVE])
@FUZZ
@given(data=st.data())
async def test_generated_documents(
    client: GraphQLClient, admin_token: str, mode: Mode, data: st.DataObject
) -> None:
    document = data.draw(from_schema(SDL, custom_scalars=SCALARS, mode=mode))
    token = data.draw(st.sampled_from([None, admin_token]))
    await check(client, str(document), token)
