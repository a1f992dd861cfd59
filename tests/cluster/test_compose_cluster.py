"""compose.cluster.yaml and its ClickHouse and Keeper configuration agree with each other.

No container runs in the tests: the files are parsed, and what a cluster needs is checked
between them (every mounted file exists, 2 shards of 2 replicas, one shard and replica
pair per node, Keeper ids, the cluster and nodes Eventide is given).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from eventide.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.cluster.yaml"
# What an operator must set (``${NAME:?…}``); every other variable takes its default.
REQUIRED = {"EVENTIDE_JWT_SECRET": "s" * 48, "CLICKHOUSE_CLUSTER_SECRET": "c" * 32}
_VARIABLE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def _interpolated(value: str) -> str:
    """``value`` as Compose fills it in from an environment holding :data:`REQUIRED`."""

    def fill(match: re.Match[str]) -> str:
        name, kind, default = match.groups()
        if kind == "?":
            return REQUIRED[name]
        assert kind == "-", f"{name} has no default"
        return default

    return _VARIABLE.sub(fill, value)


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return dict(parsed["services"])


def _of_image(services: dict[str, Any], image: str) -> dict[str, Any]:
    return {n: s for n, s in services.items() if s.get("image", "").startswith(image + ":")}


def _mounts(service: dict[str, Any]) -> dict[str, Path]:
    """A service's bind mounts: target in the container -> file in the repository."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            mounts[target] = ROOT / source
    return mounts


def _parse(path: Path) -> ET.Element:
    # The repository's own files, not untrusted input.
    return ET.parse(path).getroot()  # noqa: S314


def _xml(service: dict[str, Any], target: str) -> ET.Element:
    return _parse(_mounts(service)[target])


def _found(element: ET.Element, path: str) -> ET.Element:
    found = element.find(path)
    assert found is not None, path
    return found


def _text(element: ET.Element, path: str) -> str:
    found = element.findtext(path)
    assert found is not None, path
    return found


def test_every_mounted_file_exists_and_parses(services: dict[str, Any]) -> None:
    mounted = [path for s in services.values() for path in _mounts(s).values()]
    assert len(mounted) == 3 + 4 * 2
    for path in mounted:
        assert path.is_file(), path
        _parse(path)
    for name, service in services.items():
        # Every service a service waits for is defined, with a health check to wait on.
        for other in service.get("depends_on", {}):
            assert "healthcheck" in services[other], (name, other)


def test_two_shards_of_two_replicas_each_node_its_own_macros(services: dict[str, Any]) -> None:
    nodes = _of_image(services, "clickhouse/clickhouse-server")
    assert len(nodes) == 4
    configs = {_mounts(s)["/etc/clickhouse-server/config.d/cluster.xml"] for s in nodes.values()}
    assert len(configs) == 1  # one cluster definition, shared by every node
    cluster = _parse(configs.pop())
    (servers,) = _found(cluster, "remote_servers")
    assert servers.tag == "eventide"
    assert _found(servers, "secret").get("from_env") in nodes["ch-s1r1"]["environment"]
    shards = [
        [_text(replica, "host") for replica in each.findall("replica")]
        for each in servers.findall("shard")
    ]
    assert [len(replicas) for replicas in shards] == [2, 2]
    assert sorted(host for replicas in shards for host in replicas) == sorted(nodes)
    for each in servers.findall("shard"):
        # Distributed writes one replica; the table replicates it to the other.
        assert each.findtext("internal_replication") == "true"
        assert {r.findtext("port") for r in each.findall("replica")} == {"9000"}

    pairs = set()
    for name, node in nodes.items():
        assert node["hostname"] == name
        macros = _found(_xml(node, "/etc/clickhouse-server/config.d/macros.xml"), "macros")
        shard, replica = _text(macros, "shard"), _text(macros, "replica")
        assert replica == name
        # The shard macro names the shard of remote_servers that lists the node.
        (index,) = [i for i, replicas in enumerate(shards) if name in replicas]
        assert shard == f"{index + 1:02d}"
        pairs.add((shard, replica))
        assert f"{name}-data:/var/lib/clickhouse" in node["volumes"]
    assert len(pairs) == 4


def test_keeper_ensemble_of_three_known_to_every_node(services: dict[str, Any]) -> None:
    keepers = _of_image(services, "clickhouse/clickhouse-keeper")
    assert len(keepers) == 3
    ids = {}
    for name, keeper in keepers.items():
        server = _found(_xml(keeper, "/etc/clickhouse-keeper/keeper_config.xml"), "keeper_server")
        raft = {
            _text(s, "id"): _text(s, "hostname")
            for s in server.iterfind("raft_configuration/server")
        }
        assert sorted(raft.values()) == sorted(keepers)
        ids[_text(server, "server_id")] = name
        # Each node's id is the one the ensemble knows it by.
        assert raft[_text(server, "server_id")] == name
        assert _text(server, "tcp_port") == "9181"
        assert _text(server, "http_control/port") in keeper["healthcheck"]["test"][1]
    assert sorted(ids) == ["1", "2", "3"]

    node = _of_image(services, "clickhouse/clickhouse-server")["ch-s1r1"]
    zookeeper = _found(_xml(node, "/etc/clickhouse-server/config.d/cluster.xml"), "zookeeper")
    assert sorted((_text(n, "host"), _text(n, "port")) for n in zookeeper) == [
        (name, "9181") for name in sorted(keepers)
    ]
    for name in _of_image(services, "clickhouse/clickhouse-server"):
        assert set(keepers) <= set(services[name]["depends_on"])


def test_two_eventide_replicas_on_the_cluster(services: dict[str, Any]) -> None:
    replicas = {n: s for n, s in services.items() if s.get("build") == "."}
    assert len(replicas) == 2
    nodes = _of_image(services, "clickhouse/clickhouse-server")
    cluster = _parse(ROOT / "deploy/clickhouse-cluster/cluster.xml")
    (servers,) = _found(cluster, "remote_servers")
    ports, used_nodes = set(), set()
    for replica in replicas.values():
        settings = load_settings(
            {k: _interpolated(str(v)) for k, v in replica["environment"].items()}
        )
        assert settings.clickhouse_cluster == servers.tag
        url = urlsplit(settings.clickhouse_url or "")
        assert (url.scheme, url.port, url.path) == ("clickhouse", 9000, "/eventide")
        assert url.hostname in nodes
        used_nodes.add(url.hostname)
        assert set(nodes) | {"postgres", "redis"} <= set(replica["depends_on"])
        (published,) = replica["ports"]
        ports.add(published.split(":")[0])
    assert len(ports) == 2
    assert len(used_nodes) == 2  # each replica's statements start on a node of its own
