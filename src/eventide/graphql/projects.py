"""Projects: the tenants, their members and invitations."""

from __future__ import annotations

import datetime as dt

import strawberry

from eventide.graphql.accounts import UserType
from eventide.graphql.context import Info
from eventide.graphql.enums import ProjectRole
from eventide.graphql.permissions import signed_in, signed_in_principal
from eventide.projects import invitations, members, service
from eventide.projects.service import ProjectView
from eventide.projects.store import MemberRecord


@strawberry.type(
    name="Project",
    description=(
        "A product or site whose events are kept and counted apart from every other project's."
    ),
)
class ProjectType:
    id: strawberry.ID
    name: str
    timezone: str = strawberry.field(
        description="The IANA time zone that dashboards show this project in."
    )
    created_at: dt.datetime
    my_role: ProjectRole | None = strawberry.field(
        description="The caller's role; null for a server ADMIN who is not a member."
    )
    number: strawberry.Private[int]

    @strawberry.field
    async def members(self, info: Info) -> list[ProjectMemberType]:
        return [
            ProjectMemberType.of(m) for m in await info.context.loaders.members.load(self.number)
        ]

    @classmethod
    def of(cls, view: ProjectView) -> ProjectType:
        project = view.project
        return cls(
            id=strawberry.ID(str(project.id)),
            name=project.name,
            timezone=project.timezone,
            created_at=project.created_at,
            my_role=view.my_role,
            number=project.id,
        )


@strawberry.type(name="ProjectMember")
class ProjectMemberType:
    role: ProjectRole
    added_at: dt.datetime
    user_id: strawberry.Private[str]

    @strawberry.field
    async def user(self, info: Info) -> UserType:
        user = await info.context.loaders.user.load(self.user_id)
        assert user is not None, "a membership cascades away with its account"
        return UserType.of(user)

    @classmethod
    def of(cls, record: MemberRecord) -> ProjectMemberType:
        return cls(role=record.role, added_at=record.added_at, user_id=record.user_id)


@strawberry.input
class CreateProjectInput:
    name: str
    timezone: str = "UTC"


@strawberry.input
class UpdateProjectInput:
    name: str | None = None
    timezone: str | None = None


@strawberry.type(name="Invitation")
class InvitationType:
    code: str = strawberry.field(description="The secret code; returned once, stored hashed.")
    project: ProjectType
    role: ProjectRole
    expires_at: dt.datetime


@strawberry.type
class ProjectQuery:
    @strawberry.field(
        extensions=signed_in(),
        description=(
            "The projects the caller is a member of (an ADMIN: every project), oldest first."
        ),
    )
    async def projects(self, info: Info) -> list[ProjectType]:
        views = await service.my_projects(info.context.engines, signed_in_principal(info))
        return [ProjectType.of(view) for view in views]

    @strawberry.field(extensions=signed_in())
    async def project(self, info: Info, id: strawberry.ID) -> ProjectType:
        view = await service.get_project(info.context.engines, signed_in_principal(info), id)
        return ProjectType.of(view)


@strawberry.type
class ProjectMutation:
    @strawberry.mutation(extensions=signed_in())
    async def create_project(self, info: Info, input: CreateProjectInput) -> ProjectType:
        view = await service.create_project(
            info.context.engines,
            signed_in_principal(info),
            name=input.name,
            timezone=input.timezone,
        )
        return ProjectType.of(view)

    @strawberry.mutation(extensions=signed_in())
    async def update_project(
        self, info: Info, id: strawberry.ID, input: UpdateProjectInput
    ) -> ProjectType:
        view = await service.update_project(
            info.context.engines,
            signed_in_principal(info),
            id,
            name=input.name,
            timezone=input.timezone,
        )
        return ProjectType.of(view)

    @strawberry.mutation(
        extensions=signed_in(),
        description=(
            "Deletes the project with its events (both stores), tokens, members and invitations."
        ),
    )
    async def delete_project(self, info: Info, id: strawberry.ID) -> bool:
        await service.delete_project(info.context.engines, signed_in_principal(info), id)
        return True

    @strawberry.mutation(extensions=signed_in())
    async def add_project_member(
        self, info: Info, project_id: strawberry.ID, username: str, role: ProjectRole
    ) -> ProjectMemberType:
        member = await members.add_member(
            info.context.engines,
            signed_in_principal(info),
            project_id,
            username=username,
            role=role,
        )
        return ProjectMemberType.of(member)

    @strawberry.mutation(extensions=signed_in())
    async def set_project_member_role(
        self, info: Info, project_id: strawberry.ID, user_id: strawberry.ID, role: ProjectRole
    ) -> ProjectMemberType:
        member = await members.set_member_role(
            info.context.engines, signed_in_principal(info), project_id, user_id=user_id, role=role
        )
        return ProjectMemberType.of(member)

    @strawberry.mutation(extensions=signed_in())
    async def remove_project_member(
        self, info: Info, project_id: strawberry.ID, user_id: strawberry.ID
    ) -> bool:
        await members.remove_member(
            info.context.engines, signed_in_principal(info), project_id, user_id=user_id
        )
        return True

    @strawberry.mutation(
        extensions=signed_in(),
        description="The code is returned once; signup with it joins the project with the role.",
    )
    async def create_invitation(
        self, info: Info, project_id: strawberry.ID, role: ProjectRole, ttl_seconds: int = 604800
    ) -> InvitationType:
        created = await invitations.create_invitation(
            info.context.engines,
            signed_in_principal(info),
            project_id,
            role=role,
            ttl_seconds=ttl_seconds,
        )
        return InvitationType(
            code=created.code,
            project=ProjectType.of(created.project),
            role=created.role,
            expires_at=created.expires_at,
        )
