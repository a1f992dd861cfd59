"""Hostile values for every argument of every field, generated from the schema.

Each example picks a field of Query or Mutation, one of its arguments (or a nested
input field) to attack, a hostile value for that argument's type, the caller, and
whether the value travels as a variable or as a literal; every other required
argument gets a plain value. The server must answer without a 5xx and without an
INTERNAL_SERVER_ERROR, and stored data may only change where a mutation that
succeeded legitimately changes it: a Query field or a failed mutation changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import uuid
from typing import Any

import pytest
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLType,
    get_named_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventide.auth import api_tokens, passwords, users
from eventide.auth.jwt_tokens import issue_access_token
from eventide.auth.principal import Role, TokenScope
from eventide.graphql.schema import schema
from eventide.storage.engines import Engines
from tests.graphql_client import GraphQLClient
from tests.own_projects import own_project

CORE = schema._schema
Fields = list[tuple[str, str, GraphQLField]]
FIELDS: Fields = [
    (kind, name, field)
    for kind, root in (("query", CORE.query_type), ("mutation", CORE.mutation_type))
    if root is not None
    for name, field in root.fields.items()
]
FIELD_BY_NAME = {name: field for _, name, field in FIELDS}

# Tables each mutation may change when it succeeds; the cold store is "cold".
MAY_CHANGE: dict[str, set[str]] = {
    "signup": {"users", "refresh_tokens", "projects", "project_members", "invitations"},
    "login": {"users", "refresh_tokens"},
    "refreshToken": {"refresh_tokens"},
    "logout": {"refresh_tokens"},
    "changePassword": {"users", "refresh_tokens"},
    "updateProfile": {"users"},
    "createApiToken": {"api_tokens"},
    "revokeApiToken": {"api_tokens"},
    "purgeExpiredTokens": {"api_tokens", "refresh_tokens"},
    "setUserRole": {"users"},
    "setUserActive": {"users"},
    "deleteUser": {"users", "api_tokens", "refresh_tokens", "project_members", "invitations"},
    "createProject": {"projects", "project_members"},
    "updateProject": {"projects"},
    # The removal of its data, started in the background, may have run by then.
    "deleteProject": {
        "projects",
        "project_members",
        "invitations",
        "api_tokens",
        "events",
        "event_ids",
        "archive_batches",
        "cold",
    },
    "addProjectMember": {"project_members"},
    "setProjectMemberRole": {"project_members"},
    "removeProjectMember": {"project_members"},
    "createInvitation": {"invitations"},
    "ingestEvents": {"events", "event_ids"},
    # Its completion, started in the background, may have run by then.
    "eraseEndUser": {"erasures", "events", "cold"},
    "archiveNow": {"events", "archive_runs", "archive_batches", "archive_watermark", "cold"},
}
TABLES = [
    "users",
    "projects",
    "project_members",
    "invitations",
    "refresh_tokens",
    "api_tokens",
    "events",
    "event_ids",
    "archive_runs",
    "archive_batches",
    "archive_watermark",
    "erasures",
]
# Authenticating with an API token records its use; that is no change of stored data.
_IGNORED_COLUMNS = {"api_tokens": "- 'last_used_at'"}


def test_every_root_field_is_covered() -> None:
    mutations = {name for kind, name, _ in FIELDS if kind == "mutation"}
    assert mutations == set(MAY_CHANGE)
    assert len(FIELDS) > len(MAY_CHANGE)


# Hostile values by kind. Strings cover NUL, lone surrogates, sizes and odd text.
HOSTILE_TEXT = st.sampled_from(
    [
        "",
        "\x00",
        "a\x00b",
        "\ud800",
        "x\udfff",
        "\ufeff",
        "é" * 300,
        "a" * 5000,
        "evt_" + "A" * 43 + "\x00",
        "evt_\ud800",
        "' OR 1=1 --",
        "UTC\x00",
        "Europe/../../etc/passwd",
        "00000000-0000-0000-0000-000000000000",
        "W10",  # base64 of "[]"
        "WyJldmVudHMiLDEsIngiLDFd",  # a cursor of another shape
    ]
) | st.text(max_size=20)
HUGE_NUMBERS = (
    st.sampled_from(
        [0, -1, -(2**31) - 1, 2**31, 2**53 + 1, 2**63, -(2**63) - 1, 2**64, 10**30, -(10**30)]
    )
    | st.integers()
)
FLOATS = st.sampled_from([1.5, -0.0, 1e308, -1e308, 1e-320, math.nan, math.inf, -math.inf])
EXTREME_TIMES = st.sampled_from(
    [
        "0001-01-01T00:00:00+23:59",
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999Z",
        "1969-12-31T23:59:59.999999Z",
        "1899-12-31T23:59:59Z",
        "2262-04-12T00:00:00Z",
        "2024-01-01T00:00:00",
        "2024-13-01T00:00:00Z",
        "2024-01-01T00:00:00+24:00",
        "2024-01-01\x00",
        "\ud800",
    ]
)
EXTREME_DATES = st.sampled_from(
    ["0001-01-01", "9999-12-31", "1899-12-31", "2262-04-12", "2024-02-30", "0000-01-01", "x"]
)


def deep(levels: int, leaf: Any = 1) -> Any:
    value = leaf
    for level in range(levels):
        value = [value] if level % 2 else {"k": value}
    return value


JSON_VALUES = st.sampled_from(
    [
        {"n": 2**64},
        {"n": -(10**30)},
        {"n": math.nan},
        {"n": math.inf},
        {"s": "\x00"},
        {"\x00": 1},
        {"s": "\ud800"},
        {"\ud800": 1},
        deep(12),
        deep(300),
        deep(900),
        [1, 2],
        "text",
        7,
        {"big": "x" * 40000},
    ]
)
WRONG_TYPES = st.sampled_from([None, True, 0, -1, 1.5, "x", [], {}, [None], {"a": None}, deep(50)])


def plain(type_: GraphQLType) -> Any:
    """An ordinary valid value of ``type_``."""
    if isinstance(type_, GraphQLNonNull):
        return plain(type_.of_type)
    if isinstance(type_, GraphQLList):
        return [plain(type_.of_type)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: plain(field.type)
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull)
        }
    assert isinstance(type_, GraphQLScalarType)
    now = dt.datetime.now(dt.UTC)
    return {
        "String": "plain",
        "ID": str(uuid.uuid4()),
        "Int": 1,
        "Boolean": True,
        "DateTime": now.isoformat(),
        "Date": now.date().isoformat(),
        "JSON": {"plan": "pro"},
        "Float": 1.0,
    }[type_.name]


def hostile(type_: GraphQLType) -> st.SearchStrategy[Any]:
    """Values of ``type_``'s shape with a hostile content, or of another shape."""
    if isinstance(type_, GraphQLNonNull):
        return hostile(type_.of_type)
    if isinstance(type_, GraphQLList):
        item = type_.of_type
        return (
            st.lists(hostile(item), min_size=1, max_size=3)
            | st.lists(st.just(plain(item)), min_size=1001, max_size=1001)
            | st.builds(lambda good, bad: [good, bad], st.just(plain(item)), hostile(item))
            | WRONG_TYPES
        )
    if isinstance(type_, GraphQLEnumType):
        return st.sampled_from([*type_.values, "NOPE", "\x00", "dau", ""]) | WRONG_TYPES
    if isinstance(type_, GraphQLInputObjectType):
        fields = list(type_.fields.items())

        def one_bad_field(name: str, bad: Any) -> dict[str, Any]:
            return {**plain(type_), name: bad}

        return (
            st.sampled_from(fields).flatmap(
                lambda named: st.builds(one_bad_field, st.just(named[0]), hostile(named[1].type))
            )
            | st.just({**plain(type_), "unknownField": 1})
            | WRONG_TYPES
        )
    assert isinstance(type_, GraphQLScalarType)
    by_scalar: dict[str, st.SearchStrategy[Any]] = {
        "String": HOSTILE_TEXT,
        "ID": HOSTILE_TEXT,
        "Int": HUGE_NUMBERS | FLOATS,
        "Float": FLOATS | HUGE_NUMBERS,
        "Boolean": st.sampled_from(["true", 1, 0]),
        "DateTime": EXTREME_TIMES,
        "Date": EXTREME_DATES,
        "JSON": JSON_VALUES,
    }
    return by_scalar[type_.name] | WRONG_TYPES


_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")


def literal(value: Any, type_: GraphQLType) -> str | None:
    """``value`` written as a GraphQL literal, or None when no literal can carry it."""
    named = get_named_type(type_)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, str):
        if isinstance(named, GraphQLEnumType) and _NAME.fullmatch(value):
            return value
        return json.dumps(value)  # JSON's string escapes are GraphQL's
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(value, list):
        item = inner.of_type if isinstance(inner, GraphQLList) else inner
        parts = [literal(v, item) for v in value]
        return None if None in parts else "[" + ", ".join(p for p in parts if p) + "]"
    if isinstance(value, dict):
        fields = inner.fields if isinstance(inner, GraphQLInputObjectType) else {}
        written_fields: list[str] = []
        for key, item in value.items():
            if not _NAME.fullmatch(key):
                return None
            field = fields.get(key)
            written = literal(item, field.type if field else named)
            if written is None:
                return None
            written_fields.append(f"{key}: {written}")
        return "{" + ", ".join(written_fields) + "}"
    return None


def selection(type_: GraphQLType) -> str:
    named = get_named_type(type_)
    return " { __typename }" if isinstance(named, GraphQLObjectType) else ""


def document(
    kind: str, name: str, field: GraphQLField, values: dict[str, Any], as_literal: bool
) -> tuple[str, dict[str, Any]] | None:
    definitions, arguments, variables = [], [], {}
    for arg_name, value in values.items():
        arg: GraphQLArgument = field.args[arg_name]
        if as_literal:
            written = literal(value, arg.type)
            if written is None:
                return None
            arguments.append(f"{arg_name}: {written}")
        else:
            definitions.append(f"${arg_name}: {arg.type}")
            arguments.append(f"{arg_name}: ${arg_name}")
            variables[arg_name] = value
    head = f"{kind} Hostile" + (f"({', '.join(definitions)})" if definitions else "")
    args = f"({', '.join(arguments)})" if arguments else ""
    return f"{head} {{ {name}{args}{selection(field.type)} }}", variables


@st.composite
def operations(draw: st.DrawFn) -> tuple[str, str, dict[str, Any], bool]:
    kind, name, field = draw(st.sampled_from(FIELDS))
    values = {
        arg_name: plain(arg.type)
        for arg_name, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull)
    }
    if field.args:
        target = draw(st.sampled_from(sorted(field.args)))
        values[target] = draw(hostile(field.args[target].type))
    return kind, name, values, draw(st.booleans())


async def snapshot(engines: Engines) -> dict[str, str]:
    state = {}
    async with engines.db.acquire() as conn:
        for table in TABLES:
            ignored = _IGNORED_COLUMNS.get(table, "")
            state[table] = await conn.fetchval(
                f"SELECT count(*) || ':' || coalesce(md5(string_agg((to_jsonb(t) {ignored})::text,"
                f" ',' ORDER BY (to_jsonb(t) {ignored})::text)), '') FROM {table} t"
            )
    rows = await engines.cold.fetch(
        "SELECT count(), groupBitXor(cityHash64(event_id, user_id, event_type,"
        " toString(occurred_at), properties)) FROM project_events"
    )
    state["cold"] = repr(rows)
    return state


class Callers:
    """Fresh credentials of each kind for every example: a mutation may end a session."""

    def __init__(self, engines: Engines) -> None:
        self.engines = engines
        self.accounts: dict[Role, str] = {}
        self.api_token = ""

    async def setup(self) -> None:
        for role in (Role.USER, Role.ADMIN):
            name = f"hostile-{role.value.lower()}-{uuid.uuid4().hex[:8]}"
            record = await users.create_user(
                self.engines.db,
                username=name,
                email=f"{name}@example.test",
                password_hash=await passwords.hash_password("password1"),
                role=role,
            )
            self.accounts[role] = record.id
        self.api_token, _ = await api_tokens.create_api_token(
            self.engines.db,
            user_id=self.accounts[Role.USER],
            project_id=await own_project(self.engines.db, self.accounts[Role.USER]),
            name="all scopes",
            scopes=list(TokenScope),
            ttl_seconds=None,
        )

    async def token(self, who: str) -> str | None:
        if who == "anonymous":
            return None
        if who == "api token":
            return self.api_token
        user = await users.get_user(self.engines.db, user_id=self.accounts[Role[who.upper()]])
        if user is None:
            return None
        return issue_access_token(
            self.engines.settings, user_id=user.id, session_epoch=user.session_epoch
        )


async def seed(client: GraphQLClient, token: str | None) -> None:
    """Events in both tiers, so that a lost or damaged one shows in the snapshot."""
    now = dt.datetime.now(dt.UTC)
    events = [
        {
            "eventId": f"seed-{i}",
            "userId": f"user-{i % 3}",
            "eventType": "seen",
            "occurredAt": (now - dt.timedelta(days=i * 5)).isoformat(),
            "properties": {"n": 2**70, "i": i},
        }
        for i in range(6)
    ]
    # An admin acts in any project it names: the fixture accounts' one.
    ingest = (
        'mutation($e: [EventInput!]!) { ingestEvents(projectId: "1", events: $e) { accepted } }'
    )
    assert (await client.data(ingest, {"e": events}, token=token))["ingestEvents"]["accepted"] == 6
    moved = await client.data("mutation { archiveNow { moved } }", token=token)
    assert moved["archiveNow"]["moved"] > 0


HOSTILE = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
CALLERS = st.sampled_from(["anonymous", "user", "admin", "api token"])


@pytest.fixture
async def callers(engines: Engines, client: GraphQLClient) -> Callers:
    made = Callers(engines)
    await made.setup()
    await seed(client, await made.token("admin"))
    return made


@HOSTILE
@given(operation=operations(), who=CALLERS)
async def test_hostile_arguments_never_fail_the_server_or_touch_other_data(
    client: GraphQLClient,
    engines: Engines,
    callers: Callers,
    operation: tuple[str, str, dict[str, Any], bool],
    who: str,
) -> None:
    kind, name, values, as_literal = operation
    field = FIELD_BY_NAME[name]
    # A value no literal can carry (NaN, a key that is no name) travels as a variable.
    built = document(kind, name, field, values, as_literal) or document(
        kind, name, field, values, False
    )
    assert built is not None
    text, variables = built
    token = await callers.token(who)
    before = await snapshot(engines)
    response = await client.http.post(
        "/graphql",
        # The standard library's JSON carries NaN, infinities and unpaired surrogates.
        content=json.dumps({"query": text, "variables": variables}).encode(),
        headers={
            "content-type": "application/json",
            **({"authorization": f"Bearer {token}"} if token else {}),
        },
    )
    after = await snapshot(engines)
    shown = (text, str(variables)[:300], who, response.text[:500])
    assert response.status_code < 500, shown
    body: dict[str, Any] = response.json()
    errors = body.get("errors") or []
    for error in errors:
        assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", shown
        assert error["extensions"]["code"], shown
    succeeded = response.status_code == 200 and (body.get("data") or {}).get(name) is not None
    allowed = MAY_CHANGE.get(name, set()) if succeeded else set()
    changed = {table for table in before if before[table] != after[table]}
    assert changed <= allowed, (changed, *shown)
