"""Errors of the request itself: the document, the variables, the choice of operation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.graphql_client import GraphQLClient


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        # NoUnusedVariablesRule
        ("query Q($id: ID) { version }", {"id": "1"}),
        # NoUndefinedVariablesRule
        ("query Q { validateToken(token: $t) { valid } }", None),
        # VariablesInAllowedPositionRule
        ("query Q($t: Int) { validateToken(token: $t) { valid } }", {"t": 1}),
        # UniqueVariableNamesRule
        ("query Q($t: String!, $t: String!) { validateToken(token: $t) { valid } }", None),
        # VariablesAreInputTypesRule
        ("query Q($t: Query) { version }", None),
    ],
)
async def test_every_validation_rule_about_variables_is_a_validation_failure(
    client: GraphQLClient, query: str, variables: dict[str, Any] | None
) -> None:
    body = await client.execute(query, variables)
    assert body["data"] is None
    assert body["errors"]
    for error in body["errors"]:
        assert error["message"].startswith(("Variable '$", "There can be only one variable"))
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", error


@pytest.mark.parametrize(
    "variables",
    [
        {},  # a required variable not provided
        {"t": None},  # null for a non-null type
        {"t": {"not": "a string"}},  # a value of the wrong type
    ],
)
async def test_variable_values_that_do_not_coerce_are_bad_user_input(
    client: GraphQLClient, variables: dict[str, Any]
) -> None:
    body = await client.execute(
        "query Q($t: String!) { validateToken(token: $t) { valid } }", variables
    )
    assert body["data"] is None
    [error] = body["errors"]
    assert error["message"].startswith("Variable '$t'")
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
