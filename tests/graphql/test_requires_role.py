"""Every field carrying ``@requiresRole`` is guarded, whoever added it and whenever."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    ast_from_value,
    get_named_type,
    print_ast,
)
from strawberry.permission import PermissionExtension

from eventide.auth.principal import Principal, Role
from eventide.graphql.context import Context
from eventide.graphql.directives import HasRole, admin_only, required_role
from eventide.graphql.schema import schema
from tests.graphql_client import GraphQLClient

CONTRACT_ADMIN_FIELDS = {
    ("Query", "users"),
    ("Mutation", "purgeExpiredTokens"),
    ("Mutation", "setUserRole"),
    ("Mutation", "setUserActive"),
    ("Mutation", "deleteUser"),
}
_SAMPLE_SCALARS: dict[str, Any] = {
    "ID": "00000000-0000-0000-0000-000000000000",
    "String": "x",
    "Int": 1,
    "Float": 1.0,
    "Boolean": True,
    "DateTime": "2026-01-01T00:00:00Z",
    "Date": "2026-01-01",
    "BigInt": 1,
    "JSON": {},
}


def _guarded_fields() -> list[tuple[str, str, GraphQLField]]:
    found = []
    for root in (schema._schema.query_type, schema._schema.mutation_type):
        assert root is not None
        for name, field in root.fields.items():
            definition = field.extensions["strawberry-definition"]
            if required_role(definition) is not None:
                found.append((root.name, name, field))
    return found


def _sample(type_: Any) -> Any:
    if isinstance(type_, GraphQLNonNull):
        return _sample(type_.of_type)
    if isinstance(type_, GraphQLList):
        return [_sample(type_.of_type)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values.values())).value
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: _sample(field.type)
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is None
        }
    assert isinstance(type_, GraphQLScalarType)
    return _SAMPLE_SCALARS[type_.name]


def _operation(root: str, name: str, field: GraphQLField) -> str:
    args = []
    for arg_name, arg in field.args.items():
        if isinstance(arg.type, GraphQLNonNull):
            literal = ast_from_value(_sample(arg.type), arg.type)
            assert literal is not None
            args.append(f"{arg_name}: {print_ast(literal)}")
    call = f"{name}({', '.join(args)})" if args else name
    selection = (
        " { __typename }" if isinstance(get_named_type(field.type), GraphQLObjectType) else ""
    )
    return f"{'mutation' if root == 'Mutation' else 'query'} {{ {call}{selection} }}"


GUARDED = _guarded_fields()


def test_the_contract_admin_fields_carry_the_directive() -> None:
    assert {(root, name) for root, name, _ in GUARDED} >= CONTRACT_ADMIN_FIELDS


def test_every_field_with_the_directive_has_the_check() -> None:
    # Nested types included: the runtime test below only reaches root fields.
    for type_ in schema._schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, field in type_.fields.items():
            definition = field.extensions.get("strawberry-definition")
            if definition is None or required_role(definition) is None:
                continue
            checks = [
                permission
                for extension in definition.extensions
                if isinstance(extension, PermissionExtension)
                for permission in extension.permissions
            ]
            assert any(isinstance(p, HasRole) for p in checks), f"{type_.name}.{name}"


def test_the_directive_is_printed() -> None:
    sdl = schema.as_str()
    assert "directive @requiresRole(role: Role!) on FIELD_DEFINITION" in sdl
    assert "purgeExpiredTokens: Int! @requiresRole(role: ADMIN)" in sdl


@pytest.mark.parametrize(
    ("root", "name", "field"), GUARDED, ids=[f"{r}.{n}" for r, n, _ in GUARDED]
)
async def test_guarded_field_refuses_everyone_but_its_role(
    client: GraphQLClient,
    user_token: str,
    api_token: Callable[[list[str]], Awaitable[str]],
    root: str,
    name: str,
    field: GraphQLField,
) -> None:
    operation = _operation(root, name, field)
    assert await client.error_code(operation) == "UNAUTHENTICATED"
    assert await client.error_code(operation, token="forged") == "UNAUTHENTICATED"
    assert await client.error_code(operation, token=user_token) == "FORBIDDEN"
    for scopes in (["READ"], ["INGEST"], ["READ", "INGEST"]):
        assert await client.error_code(operation, token=await api_token(scopes)) == "FORBIDDEN"


# A field added later, on a nested type.
@strawberry.type
class Secrets:
    @strawberry.field(extensions=admin_only())
    def launch_code(self) -> str:
        return "0000"

    @strawberry.field
    def motto(self) -> str:
        return "hello"


@strawberry.type
class SampleQuery:
    @strawberry.field
    def secrets(self) -> Secrets:
        return Secrets()


async def test_the_guard_prints_its_directive_and_checks_a_nested_field() -> None:
    sample = strawberry.Schema(query=SampleQuery)
    assert "launchCode: String! @requiresRole(role: ADMIN)" in sample.as_str()

    async def run(principal: Principal | None) -> Any:
        context = Context(request=None, response=None, engines=None, principal=principal)  # type: ignore[arg-type]
        return await sample.execute("{ secrets { motto launchCode } }", context_value=context)

    user = await run(Principal(user_id="u", role=Role.USER))
    assert user.errors is not None
    assert user.errors[0].extensions == {"code": "FORBIDDEN"}
    admin = await run(Principal(user_id="a", role=Role.ADMIN))
    assert admin.errors is None
    assert admin.data == {"secrets": {"motto": "hello", "launchCode": "0000"}}
    token = await run(Principal(user_id="a", role=Role.ADMIN, api_token_id="t"))
    assert token.errors is not None
    assert token.errors[0].extensions == {"code": "FORBIDDEN"}
