from __future__ import annotations

from tests.graphql_client import GraphQLClient


async def test_health_touches_nothing(client: GraphQLClient) -> None:
    response = await client.http.get("/health")
    assert response.status_code == 200


async def test_ready_reports_every_engine(client: GraphQLClient) -> None:
    response = await client.http.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"postgres": True, "clickhouse": True, "redis": True}


async def test_graphql_answers(client: GraphQLClient) -> None:
    data = await client.data("{ version }")
    assert data["version"]


async def test_syntax_error_has_parse_code(client: GraphQLClient) -> None:
    assert await client.error_code("{ version") == "GRAPHQL_PARSE_FAILED"


async def test_unknown_field_has_validation_code(client: GraphQLClient) -> None:
    assert await client.error_code("{ nope }") == "GRAPHQL_VALIDATION_FAILED"
