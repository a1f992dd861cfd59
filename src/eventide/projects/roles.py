"""A member's role in a project, and the role each kind of work needs."""

from __future__ import annotations

import enum


class ProjectRole(enum.Enum):
    VIEWER = "VIEWER"
    EDITOR = "EDITOR"
    OWNER = "OWNER"

    @property
    def rank(self) -> int:
        """A role may do whatever a role of lower rank may."""
        return _RANKS[self]

    def includes(self, other: ProjectRole) -> bool:
        return self.rank >= other.rank


_RANKS = {ProjectRole.VIEWER: 0, ProjectRole.EDITOR: 1, ProjectRole.OWNER: 2}

# What each kind of work needs; pass these as ``need`` to eventide.projects.access.
# Analytics, events, the project and its members.
READS = ProjectRole.VIEWER
# ingestEvents. An API token acts as its owner would, so its owner needs this too.
INGESTS = ProjectRole.EDITOR
# Creating, listing and revoking the project's API tokens.
MANAGES_TOKENS = ProjectRole.EDITOR
# Renaming and deleting the project, its members and invitations.
MANAGES_PROJECT = ProjectRole.OWNER
