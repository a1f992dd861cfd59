"""Throw-away PostgreSQL, Redis and ClickHouse servers that a test may stop and start.

Each runs on a free loopback port with its files in a temporary directory, so
stopping it disturbs no other test; each keeps its data across a stop and a start.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def require(available: bool, why_not: str) -> None:
    """Skip the calling test module when ``available`` is false; in CI, fail instead."""
    if available:
        return
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"{why_not}: CI must run these tests")
    pytest.skip(why_not, allow_module_level=True)


def postgres_available() -> bool:
    if os.geteuid() != 0:
        return True  # pgserver's binaries at least
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return shutil.which("runuser") is not None


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(span: int = 1) -> int:
    """A port such that ``span`` consecutive ports from it are free."""
    for _ in range(200):
        port = random.randint(20_000, 60_000)
        if all(_port_free(port + i) for i in range(span)):
            return port
    raise RuntimeError("no free port")


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until(condition: Callable[[], bool], *, timeout: float = 20.0, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {timeout} s")
        time.sleep(0.05)


class PostgresServer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._bin = _postgres_bin()
        # PostgreSQL refuses to run as root.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._as:
            shutil.chown(directory, "postgres")
        self._run("initdb", "-D", "data", "-A", "trust", "-U", "postgres", "--no-sync")

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self._as, str(self._bin / program), *args],
            cwd=self.directory,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", "data", "-o", options, "-l", "log", "-w", "start")

    def stop(self) -> None:
        """A fast shutdown: open sessions are terminated, as by an operator's restart."""
        self._run("pg_ctl", "-D", "data", "-m", "fast", "-w", "stop")


def _postgres_bin() -> Path:
    installed = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if installed:
        return Path(installed[-1]).parent
    import pgserver  # the binaries the embedded engine uses

    return Path(pgserver.__file__).parent / "pginstall" / "bin"


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    # Not under pytest's tmp_path: its parent is private to root, and the server runs
    # as the postgres user.
    directory = Path(tempfile.mkdtemp(prefix="eventide-pg-"))
    try:
        server = PostgresServer(directory)
        server.start()
        try:
            yield server
        finally:
            with contextlib.suppress(subprocess.CalledProcessError):
                server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                *("redis-server", "--bind", "127.0.0.1", "--port", str(self.port)),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_until(lambda: _listening(self.port), what="redis-server started")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


class ClickHouseServer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port(span=3)  # native, HTTP and interserver ports
        self.url = self.database_url("default")

    def database_url(self, database: str) -> str:
        return f"clickhouse://default@127.0.0.1:{self.port}/{database}"

    def _script(self, *args: str) -> None:
        script = PROJECT_ROOT / "scripts" / "clickhouse-server.sh"
        subprocess.run([str(script), *args], check=True, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        self._script("start", str(self.directory), str(self.port))

    def stop(self) -> None:
        """Stop, and wait for the process to exit: it holds a lock on its directory.

        The server lingers up to about ten seconds while idle clients stay connected.
        """
        pid_file = self.directory / "pid"
        if not pid_file.exists():
            return  # stopped already
        pid = int(pid_file.read_text())
        self._script("stop", str(self.directory))
        wait_until(lambda: not _alive(pid), timeout=30, what="clickhouse-server exited")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextlib.contextmanager
def clickhouse_server(directory: Path) -> Iterator[ClickHouseServer]:
    server = ClickHouseServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
