"""Third-party suites against a live server: graphql-http's GraphQL-over-HTTP audits,
and schemathesis generating operations from the schema.

Both need tools outside Python's environment or a running server, so they skip where
those are missing, except in CI (``CI=true``), where a skip would hide a regression.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conformance.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[2]
AUDIT_SCRIPT = ROOT / "scripts" / "graphql-http-audit.mjs"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# Generated operations per schema field and run; each run takes well under a minute.
MAX_EXAMPLES = int(os.environ.get("EVENTIDE_FUZZ_EXAMPLES", "40"))
IN_CI = os.environ.get("CI") == "true"


NODE = shutil.which("node")


def _audit_tools_missing() -> bool:
    return NODE is None or not (ROOT / "node_modules" / "graphql-http").is_dir()


@pytest.mark.skipif(
    _audit_tools_missing() and not IN_CI, reason="needs node and `npm ci` (make install)"
)
def test_graphql_http_audits_all_pass(live_server: LiveServer) -> None:
    run = subprocess.run(
        [str(NODE), str(AUDIT_SCRIPT), live_server.url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
    summary = re.search(r"(\d+) audits: (\d+) ok, (\d+) failed, (\d+) warnings", run.stdout)
    assert summary is not None, run.stdout
    total, ok, failed, warnings = map(int, summary.groups())
    assert total > 50  # the suite ran, not an empty list
    assert (failed, warnings) == (0, 0), run.stdout
    assert ok == total, run.stdout


def _schemathesis(live_server: LiveServer, tmp_path: Path, *options: str) -> str:
    env = dict(os.environ)
    env["SCHEMATHESIS_HOOKS"] = "tests.conformance.schemathesis_checks"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            live_server.url,
            "--max-examples",
            str(MAX_EXAMPLES),
            # Business rules refuse many well-typed values (BAD_USER_INPUT, FORBIDDEN);
            # what must never happen is a server failure: no_internal_error.
            "--exclude-checks",
            "not_a_server_error,positive_data_acceptance",
            "--generation-database",
            "none",
            "--no-color",
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    print(run.stdout)
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert re.search(r"Tested: [1-9]", run.stdout), run.stdout
    return run.stdout


def test_schemathesis_finds_no_server_error_anonymously(
    live_server: LiveServer, tmp_path: Path
) -> None:
    _schemathesis(live_server, tmp_path)


def test_schemathesis_finds_no_server_error_as_an_admin(
    live_server: LiveServer, tmp_path: Path
) -> None:
    _schemathesis(
        live_server,
        tmp_path,
        "--header",
        f"Authorization: Bearer {live_server.admin_token}",
        # logout would revoke the token that every later operation of the run uses.
        "--exclude-name",
        "Mutation.logout",
    )


def test_schemathesis_finds_no_server_error_with_an_api_token(
    live_server: LiveServer, tmp_path: Path
) -> None:
    _schemathesis(
        live_server, tmp_path, "--header", f"Authorization: Bearer {live_server.api_token}"
    )
