"""Locate and read the numbered SQL files shipped with Eventide."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_NUMBERED = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_PACKAGE_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class SqlFile:
    version: str
    name: str
    text: str

    def statements(self) -> list[str]:
        """The file split at semicolons that end a line (no statement here spans one)."""
        parts = re.split(r";\s*$", self.text, flags=re.MULTILINE)
        return [p.strip() for p in parts if _strip_comments(p).strip()]


def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))


def _folder(name: str) -> Path:
    # Installed wheels carry the files inside the package; a source checkout has them at the root.
    for candidate in (_PACKAGE_ROOT / "_sql" / name, _PACKAGE_ROOT.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"SQL folder {name!r} not found")


def load(name: str) -> list[SqlFile]:
    """Every numbered file of folder ``name`` (``migrations`` or ``clickhouse_ddl``), in order."""
    files = []
    for path in sorted(_folder(name).iterdir()):
        match = _NUMBERED.match(path.name)
        if match:
            files.append(SqlFile(version=match.group(1), name=path.stem, text=path.read_text()))
    return files
