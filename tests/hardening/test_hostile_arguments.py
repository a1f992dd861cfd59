"""Arguments no store can hold get BAD_USER_INPUT (or the field's own refusal), never 500."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.graphql_client import GraphQLClient

NUL = "with\x00nul"
SURROGATE = "with\ud800surrogate"
INGEST = """mutation($e: [EventInput!]!, $s: DateTime) {
  ingestEvents(events: $e, sentAt: $s) { accepted duplicates rejected { index code message } }
}"""
EVENTS = """query($f: EventFilter, $a: String, $n: Int! = 50) {
  events(filter: $f, after: $a, first: $n) {
    edges { node { eventId properties } } pageInfo { endCursor hasNextPage }
  }
}"""


async def error(
    client: GraphQLClient, document: str, variables: dict[str, Any], token: str | None
) -> dict[str, Any]:
    # The standard library writes unpaired surrogates as \\ud800 escapes.
    response = await client.http.post(
        "/graphql",
        content=json.dumps({"query": document, "variables": variables}).encode(),
        headers={"content-type": "application/json", **auth(token)},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body.get("errors"), body
    first: dict[str, Any] = body["errors"][0]
    return first


def auth(token: str | None) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"} if token else {}


SIGNUP = "mutation($i: SignupInput!) { signup(input: $i) { tokenType } }"
TEXT_ARGUMENTS = [
    # (document, variables with a placeholder "?", the word the message names, who asks)
    (
        'mutation($v: String!) { login(username: $v, password: "password1") { tokenType } }',
        {"v": "?"},
        "username",
        None,
    ),
    (
        'mutation($v: String!) { login(username: "someone", password: $v) { tokenType } }',
        {"v": "?"},
        "password",
        None,
    ),
    (SIGNUP, {"i": {"username": "newcomer", "email": "?", "password": "password1"}}, "Email", None),
    (
        "mutation($v: String) { updateProfile(input: {email: $v}) { id } }",
        {"v": "?"},
        "Email",
        "user",
    ),
    (
        "mutation($v: String!) { createApiToken(input: {name: $v, scopes: [READ]}) { token } }",
        {"v": "?"},
        "Token name",
        "user",
    ),
]


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
@pytest.mark.parametrize(("document", "variables", "named", "who"), TEXT_ARGUMENTS)
async def test_text_arguments_refuse_nul_and_unpaired_surrogates(
    client: GraphQLClient,
    user_token: str,
    bad: str,
    document: str,
    variables: dict[str, Any],
    named: str,
    who: str | None,
) -> None:
    filled = json.loads(json.dumps(variables).replace('"?"', json.dumps(bad)))
    if named == "password" and bad == NUL:
        pytest.skip("a password may hold U+0000: only its hash is stored")
    found = await error(client, document, filled, user_token if who else None)
    assert found["extensions"]["code"] == "BAD_USER_INPUT", found
    assert named in found["message"]


async def test_new_passwords_refuse_unpaired_surrogates(
    client: GraphQLClient, user_token: str
) -> None:
    variables = {"i": {"username": "newcomer", "email": "new@example.test", "password": ""}}
    variables["i"]["password"] = "password" + SURROGATE
    found = await error(client, SIGNUP, variables, None)
    assert found["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Password" in found["message"]
    change = (
        "mutation($c: String!, $n: String!)"
        " { changePassword(currentPassword: $c, newPassword: $n) }"
    )
    found = await error(client, change, {"c": SURROGATE, "n": "password1"}, user_token)
    assert found["extensions"]["code"] == "BAD_USER_INPUT"
    assert "currentPassword" in found["message"]


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
async def test_presented_secrets_with_odd_characters_are_unknown_secrets(
    client: GraphQLClient, bad: str
) -> None:
    refresh = "mutation($t: String!) { refreshToken(refreshToken: $t) { tokenType } }"
    found = await error(client, refresh, {"t": bad}, None)
    assert found["extensions"]["code"] == "UNAUTHENTICATED"
    validate = "query($t: String!) { validateToken(token: $t) { valid reason } }"
    body = json.dumps({"query": validate, "variables": {"t": "evt_" + bad}}).encode()
    response = await client.http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.json()["data"] == {"validateToken": {"valid": False, "reason": "UNKNOWN"}}
    logout = "mutation($t: String) { logout(refreshToken: $t) }"
    body = json.dumps({"query": logout, "variables": {"t": bad}}).encode()
    response = await client.http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.json()["data"] == {"logout": True}, response.text


EXTREMES = ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"]


@pytest.mark.parametrize("instant", EXTREMES)
async def test_datetimes_without_a_utc_instant_are_refused_everywhere(
    client: GraphQLClient, admin_token: str, instant: str
) -> None:
    event = {"eventId": "e", "userId": "u", "eventType": "t", "occurredAt": instant}
    for document, variables in (
        (EVENTS, {"f": {"from": instant}}),
        (EVENTS, {"f": {"to": instant}}),
        (INGEST, {"e": [event]}),
        (INGEST, {"e": [{**event, "occurredAt": "2024-01-01T00:00:00Z"}], "s": instant}),
    ):
        found = await error(client, document, variables, admin_token)
        assert found["extensions"]["code"] == "BAD_USER_INPUT", found
        assert "out of range" in found["message"]
    literal = 'query { events(filter: {from: "' + instant + '"}) { edges { cursor } } }'
    found = await error(client, literal, {}, admin_token)
    assert found["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", found


async def stored(client: GraphQLClient, token: str, n: int) -> None:
    events = [
        {
            "eventId": f"e{i}",
            "userId": "u",
            "eventType": "t",
            "occurredAt": f"2024-01-0{i + 1}T00:00:00Z",
        }
        for i in range(n)
    ]
    result = await client.data(INGEST, {"e": events}, token=token)
    assert result["ingestEvents"]["accepted"] == n


@pytest.mark.parametrize(
    "bounds",
    [
        {"from": "0001-01-01T00:00:00Z"},
        {"to": "9999-12-31T23:59:59.999999Z"},
        {"from": "0001-01-01T00:00:00Z", "to": "9999-12-31T23:59:59Z"},
    ],
)
async def test_filters_at_the_calendars_ends_find_what_is_stored(
    client: GraphQLClient, admin_token: str, bounds: dict[str, str]
) -> None:
    await stored(client, admin_token, 2)
    for archived in (False, True):
        if archived:  # both events are older than the hot window
            moved = await client.data("mutation { archiveNow { moved } }", token=admin_token)
            assert moved["archiveNow"]["moved"] == 2
        page = await client.data(EVENTS, {"f": bounds}, token=admin_token)
        assert [edge["node"]["eventId"] for edge in page["events"]["edges"]] == ["e1", "e0"]
    empty = {"from": "9999-12-31T00:00:00Z"}
    edges = (await client.data(EVENTS, {"f": empty}, token=admin_token))["events"]["edges"]
    assert edges == []


def cursor(*position: Any) -> str:
    text = json.dumps(position)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def end_cursor(client: GraphQLClient, token: str, where: dict[str, Any]) -> str:
    page = await client.data(EVENTS, {"f": where, "n": 1}, token=token)
    value: str = page["events"]["pageInfo"]["endCursor"]
    return value


@pytest.mark.parametrize(
    "position",
    [
        (10**30, "e", 10**30),
        (-(10**18), "e", -(10**18)),
        (-1, "e", 0),
        (2**63, "e", 1),
        (1, "e", 2**64),
        (True, "e", 1),
        (1.5, "e", 1),
    ],
)
async def test_cursors_with_numbers_no_event_has_are_refused(
    client: GraphQLClient, admin_token: str, position: tuple[Any, ...]
) -> None:
    await stored(client, admin_token, 2)
    real = json.loads(base64.urlsafe_b64decode(await end_cursor(client, admin_token, {}) + "=="))
    tag = real[-1]
    found = await error(client, EVENTS, {"a": cursor("events", *position, tag)}, admin_token)
    assert found["extensions"]["code"] == "BAD_USER_INPUT"
    assert found["message"] == "Invalid cursor"


async def test_a_cursor_is_refused_under_another_filter(
    client: GraphQLClient, admin_token: str
) -> None:
    await stored(client, admin_token, 3)
    mine = {"userId": "u"}
    after = await end_cursor(client, admin_token, mine)
    page = await client.data(EVENTS, {"f": mine, "a": after, "n": 1}, token=admin_token)
    assert [e["node"]["eventId"] for e in page["events"]["edges"]] == ["e1"]
    # The same instant written with another offset is the same filter.
    since = {"from": "2024-01-01T00:00:00Z"}
    same = {"from": "2024-01-01T01:00:00+01:00"}
    page = await client.data(
        EVENTS, {"f": same, "a": await end_cursor(client, admin_token, since)}, token=admin_token
    )
    assert len(page["events"]["edges"]) == 2
    for other in ({}, {"userId": "v"}, {"eventType": "t"}, since):
        found = await error(client, EVENTS, {"f": other, "a": after}, admin_token)
        assert found["extensions"]["code"] == "BAD_USER_INPUT"
        assert "another filter" in found["message"]
    # An explicit null is the same filter as an omitted bound.
    page = await client.data(
        EVENTS, {"f": {"userId": "u", "to": None}, "a": after}, token=admin_token
    )
    assert len(page["events"]["edges"]) == 2


@pytest.mark.parametrize(
    "text",
    [
        "[" * 5000,
        '["users", "0001-01-01T00:00:00+23:59", "00000000-0000-0000-0000-000000000000"]',
        '["users", "9999-12-31T23:59:59-23:59", "00000000-0000-0000-0000-000000000000"]',
    ],
)
async def test_users_and_events_cursors_that_cannot_be_positions_are_refused(
    client: GraphQLClient, admin_token: str, text: str
) -> None:
    token = base64.urlsafe_b64encode(text.encode()).decode()
    for document in (EVENTS, "query($a: String) { users(after: $a) { edges { cursor } } }"):
        found = await error(client, document, {"a": token}, admin_token)
        assert found["extensions"]["code"] == "BAD_USER_INPUT", found
        assert found["message"] == "Invalid cursor"


@pytest.mark.parametrize(
    "properties",
    ['{"n": NaN}', '{"n": [Infinity]}', '{"deep": {"n": 1e400}}', '{"n": -1e999}'],
)
async def test_properties_jsonb_cannot_hold_reject_that_event_only(
    client: GraphQLClient,
    api_token: Callable[[list[str]], Awaitable[str]],
    properties: str,
) -> None:
    token = await api_token(["INGEST", "READ"])
    head = '{"userId": "u", "eventType": "t", "occurredAt": "2024-01-01T00:00:00Z", '
    good = head + '"eventId": "good", "properties": {"n": 123456789012345678901234567890}}'
    bad = head + '"eventId": "bad", "properties": ' + properties + "}"
    body = '{"query": ' + json.dumps(INGEST) + ', "variables": {"e": [' + bad + ", " + good + "]}}"
    response = await client.http.post(
        "/graphql",
        content=body.encode(),
        headers={"content-type": "application/json", **auth(token)},
    )
    result = response.json()["data"]["ingestEvents"]
    assert result["accepted"] == 1
    [rejected] = result["rejected"]
    assert (rejected["index"], rejected["code"]) == (0, "INVALID_FIELD")
    assert "NaN or infinite" in rejected["message"]
    edges = (await client.data(EVENTS, {}, token=token))["events"]["edges"]
    # An integer beyond 64 bits is a number jsonb holds exactly: it comes back as sent.
    assert [e["node"] for e in edges] == [
        {"eventId": "good", "properties": {"n": 123456789012345678901234567890}}
    ]


@pytest.mark.parametrize("value", ["1e400", "-1e400"])
async def test_property_literals_jsonb_cannot_hold_reject_that_event_only(
    client: GraphQLClient, admin_token: str, value: str
) -> None:
    document = """mutation { ingestEvents(events: [
      {eventId: "bad", userId: "u", eventType: "t", occurredAt: "2024-01-01T00:00:00Z",
       properties: {n: VALUE}},
      {eventId: "good", userId: "u", eventType: "t", occurredAt: "2024-01-01T00:00:00Z",
       properties: {n: 18446744073709551616}}
    ]) { accepted rejected { index code } } }""".replace("VALUE", value)
    result = (await client.data(document, token=admin_token))["ingestEvents"]
    assert result == {"accepted": 1, "rejected": [{"index": 0, "code": "INVALID_FIELD"}]}


async def test_passwords_longer_than_the_hasher_takes_match_nothing(
    client: GraphQLClient, user_token: str
) -> None:
    long = "p" * 5000
    login = "mutation($p: String!) { login(username: $u, password: $p) { tokenType } }"
    login = login.replace("($p", "($u: String!, $p")
    found = await error(client, login, {"u": "someone", "p": long}, None)
    assert found["extensions"]["code"] == "UNAUTHENTICATED", found
    change = "mutation($c: String!) { changePassword(currentPassword: $c, newPassword: $c) }"
    found = await error(client, change, {"c": long}, user_token)
    assert (found["extensions"]["code"], found["message"]) == (
        "BAD_USER_INPUT",
        "Current password is incorrect",
    )
