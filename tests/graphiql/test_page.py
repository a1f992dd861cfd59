"""The GraphiQL page and its locally served assets."""

from __future__ import annotations

from pathlib import Path

import pytest

from eventide.storage.engines import Engines
from tests.configured import configured_client
from tests.graphql_client import GraphQLClient


async def test_the_page_loads_only_local_scripts(client: GraphQLClient) -> None:
    response = await client.http.get("/graphiql")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "https://" not in response.text
    assert "http://" not in response.text
    assert 'src="/graphiql/assets/graphiql.min.js"' in response.text


@pytest.mark.parametrize(
    ("name", "media_type", "marker"),
    [
        ("graphiql.min.js", "text/javascript", "GraphiQL"),
        ("graphiql.min.css", "text/css", ".graphiql-container"),
        ("react.production.min.js", "text/javascript", "React"),
        ("react-dom.production.min.js", "text/javascript", "ReactDOM"),
        ("console.js", "text/javascript", "sessionStorage"),
        ("console.css", "text/css", "#graphiql"),
    ],
)
async def test_assets_are_served(
    client: GraphQLClient, name: str, media_type: str, marker: str
) -> None:
    response = await client.http.get(f"/graphiql/assets/{name}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(media_type)
    assert marker in response.text


@pytest.mark.parametrize("name", ["package.json", "..%2F..%2Fpyproject.toml", "graphiql.js"])
async def test_nothing_else_is_served(client: GraphQLClient, name: str) -> None:
    response = await client.http.get(f"/graphiql/assets/{name}")
    assert response.status_code == 404
    assert "build-system" not in response.text
    assert "dependencies" not in response.text


async def test_missing_assets_say_how_to_install_them(engines: Engines, tmp_path: Path) -> None:
    async with configured_client(engines, graphiql_assets_dir=tmp_path) as client:
        response = await client.http.get("/graphiql/assets/graphiql.min.js")
        assert response.status_code == 503
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "npm ci" in error["message"]
        # The page's own files do not depend on npm.
        assert (await client.http.get("/graphiql/assets/console.js")).status_code == 200
