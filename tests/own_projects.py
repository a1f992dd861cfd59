"""Projects for accounts that tests create directly in storage."""

from __future__ import annotations

from typing import Any

from eventide.projects import store
from eventide.projects.roles import ProjectRole


async def own_project(db: Any, user_id: str, *, name: str = "own") -> int:
    """A new project with ``user_id`` as its OWNER, as signup gives every account."""
    project = await store.insert_project(db, name=name, timezone="UTC")
    await store.insert_member(db, project_id=project.id, user_id=user_id, role=ProjectRole.OWNER)
    return project.id
