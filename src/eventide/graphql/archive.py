"""Storage tiers for admins: ``storage`` and ``archiveNow``."""

from __future__ import annotations

import datetime as dt

import strawberry

from eventide.archive import on_demand, runs, status
from eventide.graphql.context import Info
from eventide.graphql.directives import admin_only
from eventide.graphql.scalars import BigInt


@strawberry.type(name="ArchiveRun")
class ArchiveRunType:
    started_at: dt.datetime
    finished_at: dt.datetime | None
    moved: BigInt = strawberry.field(
        description="Events moved from the hot to the cold store by this run."
    )

    @classmethod
    def of(cls, run: runs.ArchiveRun) -> ArchiveRunType:
        return cls(started_at=run.started_at, finished_at=run.finished_at, moved=BigInt(run.moved))


@strawberry.type(description="What the stores hold of one project.")
class ProjectStorage:
    project_id: strawberry.ID
    hot_events: BigInt
    cold_events: BigInt

    @classmethod
    def of(cls, counts: status.ProjectEvents) -> ProjectStorage:
        return cls(
            project_id=strawberry.ID(str(counts.project)),
            hot_events=BigInt(counts.hot_events),
            cold_events=BigInt(counts.cold_events),
        )


@strawberry.type(name="StorageStatus")
class StorageStatusType:
    hot_events: BigInt
    cold_events: BigInt
    copied_events: BigInt = strawberry.field(
        description=(
            "Events of closed days already counted from the cold store (in coldEvents) whose "
            "copies PostgreSQL keeps until they leave the hot window."
        )
    )
    archived_through: dt.datetime | None = strawberry.field(
        description=(
            "Every event that occurred before this instant has left the hot store, "
            "except late arrivals not yet archived."
        )
    )
    hot_window_days: int
    last_archive_run: ArchiveRunType | None
    projects: list[ProjectStorage] = strawberry.field(
        description="The events of each project with events in either store, by project id "
        "(deleted projects too, until their removal is finished)."
    )


@strawberry.type
class StorageQuery:
    @strawberry.field(extensions=admin_only())
    async def storage(self, info: Info) -> StorageStatusType:
        current = await status.storage_status(info.context.engines)
        return StorageStatusType(
            hot_events=BigInt(current.hot_events),
            cold_events=BigInt(current.cold_events),
            copied_events=BigInt(current.copied_events),
            archived_through=current.archived_through,
            hot_window_days=current.hot_window_days,
            last_archive_run=None
            if current.last_run is None
            else ArchiveRunType.of(current.last_run),
            projects=[ProjectStorage.of(counts) for counts in current.projects],
        )


@strawberry.type
class ArchiveMutation:
    @strawberry.mutation(
        extensions=admin_only(),
        description="Runs one archive pass now (hot to cold) and returns its report.",
    )
    async def archive_now(self, info: Info) -> ArchiveRunType:
        return ArchiveRunType.of(await on_demand.archive_now(info.context.engines))
