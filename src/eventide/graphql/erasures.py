"""End-user erasure: ``eraseEndUser`` and ``erasures``, for a project's OWNERs and ADMINs.

Sessions only: an erasure is a decision of a person, like the project's other
management, not of an integration's token.
"""

from __future__ import annotations

import datetime as dt

import strawberry

from eventide.graphql.context import Info
from eventide.graphql.permissions import signed_in, signed_in_principal
from eventide.graphql.project_argument import ProjectIdArgument, project_of
from eventide.graphql.scalars import BigInt
from eventide.lifecycle import erasures
from eventide.lifecycle.store import ErasureRecord
from eventide.projects.roles import MANAGES_PROJECT


@strawberry.type(name="Erasure")
class ErasureType:
    id: strawberry.ID
    user_id: str
    requested_at: dt.datetime
    completed_at: dt.datetime | None = strawberry.field(
        description="Null until every copy is gone from both stores."
    )
    deleted_events: BigInt | None = strawberry.field(
        description="Events removed; null until completed."
    )

    @classmethod
    def of(cls, record: ErasureRecord) -> ErasureType:
        return cls(
            id=strawberry.ID(str(record.id)),
            user_id=record.user_id,
            requested_at=record.requested_at,
            completed_at=record.completed_at,
            deleted_events=None if record.deleted_events is None else BigInt(record.deleted_events),
        )


@strawberry.type
class ErasureQuery:
    @strawberry.field(
        extensions=signed_in(), description="End-user erasures of the project, newest first."
    )
    async def erasures(self, info: Info, project_id: ProjectIdArgument = None) -> list[ErasureType]:
        project = await project_of(info, project_id, need=MANAGES_PROJECT)
        records = await erasures.erasures(info.context.engines, project=project)
        return [ErasureType.of(record) for record in records]


@strawberry.type
class ErasureMutation:
    @strawberry.mutation(
        extensions=signed_in(),
        description="Removes every event of one end user (userId) of the project from both stores.",
    )
    async def erase_end_user(
        self, info: Info, user_id: str, project_id: ProjectIdArgument = None
    ) -> ErasureType:
        project = await project_of(info, project_id, need=MANAGES_PROJECT)
        record = await erasures.erase_end_user(
            info.context.engines,
            project=project,
            user_id=user_id,
            requested_by=signed_in_principal(info).user_id,
        )
        return ErasureType.of(record)
