"""Duplicates and redundancy: start a check, read its report and groups, and take redundant
items out of the work (exclude, merge, drop) or bring them back (include)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from accord.api.deps import CurrentUser, DatabaseDep, ReadSessionDep, RunnerDep, SessionDep
from accord.api.payloads import JobOut
from accord.core import duplicate_actions, duplicate_reports, duplicates, items, projects
from accord.core.policies import ProjectPolicy, authorize
from accord.db.models import Job
from accord.errors import InvalidInput
from accord.jobs.runners import enqueue

router = APIRouter(prefix="/projects/{project_id}", tags=["duplicates"])


class DuplicatesJobIn(BaseModel):
    methods: list[str] | None = Field(
        default=None, description=f"some of {', '.join(duplicates.METHODS)}; default: all"
    )
    threshold: float = Field(default=0.8, description="Jaccard of word 2-shingles, (0, 1]")
    max_distance: int = Field(default=10, description="Hamming distance of 64-bit pHashes")
    cosine: float = Field(default=0.95, description="cosine similarity of stored vectors")
    embedder: str | None = Field(default=None, description="default: the newest vectors")


class MemberOut(BaseModel):
    item_id: int
    status: str
    method: str
    similarity: float = Field(description="to the group's representative, by the method")
    preview: str
    has_media: bool
    representative: bool
    duplicate_of: int | None


class GroupOut(BaseModel):
    group_id: int = Field(description="the representative's item id (the smallest in the group)")
    size: int
    members: list[MemberOut]
    methods: dict[str, int]


class GroupPage(BaseModel):
    groups: list[GroupOut]
    total: int
    offset: int
    limit: int


class DuplicatesOut(BaseModel):
    n_items: int
    n_groups: int
    n_redundant: int
    redundancy_rate: float = Field(description="items that are not representatives / all items")
    histogram: dict[str, int] = Field(description="group size -> number of groups")
    largest: list[GroupOut]
    n_excluded: int
    computed_at: str | None
    last_job: dict[str, Any] | None


class GroupsIn(BaseModel):
    group_ids: list[int] | None = Field(default=None, description="the groups to act on")
    all: bool = Field(default=False, description="act on every group")
    skip_annotated: bool = Field(
        default=False, description="drop: leave annotated items instead of refusing"
    )

    def chosen(self) -> list[int] | None:
        if self.all:
            return None
        if not self.group_ids:
            raise InvalidInput(
                "name the groups (group_ids) or ask for all groups (all: true)",
                [{"field": "group_ids", "rule": "required"}],
            )
        return self.group_ids


class SkippedOut(BaseModel):
    item_id: int
    reason: str


class ActionOut(BaseModel):
    action: str
    changed: list[int]
    skipped: list[SkippedOut]


@router.post("/duplicates/jobs", response_model=JobOut, status_code=202)
def start_duplicates_job(
    project_id: int,
    body: DuplicatesJobIn,
    db: DatabaseDep,
    session: ReadSessionDep,
    user: CurrentUser,
    runner: RunnerDep,
) -> JobOut:
    """Find exact and near-duplicate items in the background; follow it at /jobs/{id}."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    params = duplicates.CheckParams.parse(body.model_dump()).as_dict()
    job_id = enqueue(db, runner, "duplicates", params, project_id=project.id, user_id=user.id)
    with db.transaction(write=False) as read:
        return JobOut.model_validate(read.get(Job, job_id))


@router.get("/duplicates", response_model=DuplicatesOut)
def duplicates_report(project_id: int, session: ReadSessionDep, user: CurrentUser) -> DuplicatesOut:
    """Redundancy rate, number of groups, the group size histogram and the largest groups."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    return DuplicatesOut.model_validate(duplicate_reports.summary(session, project).as_dict())


@router.get("/duplicates/groups", response_model=GroupPage)
def duplicate_groups(
    project_id: int,
    session: ReadSessionDep,
    user: CurrentUser,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> GroupPage:
    """Groups, largest first, with their members' previews (up to 50 members each)."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    found = duplicate_reports.groups(session, project, offset=offset, limit=limit)
    return GroupPage(
        groups=[GroupOut.model_validate(g, from_attributes=True) for g in found],
        total=duplicate_reports.count_groups(session, project),
        offset=offset,
        limit=limit,
    )


@router.get("/items/{item_id}/duplicates", response_model=GroupOut | None)
def item_duplicates(
    project_id: int, item_id: int, session: ReadSessionDep, user: CurrentUser
) -> GroupOut | None:
    """The duplicate group of one item (null when it has none)."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    items.get_item(session, project, item_id)
    group = duplicate_reports.item_group(session, project, item_id)
    return GroupOut.model_validate(group, from_attributes=True) if group else None


def _act(action: str, project_id: int, body: GroupsIn, session: Any, user: Any) -> ActionOut:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    chosen = body.chosen()
    if action == "drop":
        result = duplicate_actions.drop(
            session, project, chosen, actor_id=user.id, skip_annotated=body.skip_annotated
        )
    else:
        act = {
            "exclude": duplicate_actions.exclude,
            "include": duplicate_actions.include,
            "merge": duplicate_actions.merge,
        }[action]
        result = act(session, project, chosen, actor_id=user.id)
    return ActionOut.model_validate(result.as_dict())


@router.post("/duplicates/exclude", response_model=ActionOut)
def exclude(project_id: int, body: GroupsIn, session: SessionDep, user: CurrentUser) -> ActionOut:
    """Redundant members of the groups leave the queue (open items nobody answered or holds)."""
    return _act("exclude", project_id, body, session, user)


@router.post("/duplicates/include", response_model=ActionOut)
def include(project_id: int, body: GroupsIn, session: SessionDep, user: CurrentUser) -> ActionOut:
    """Excluded members of the groups (all: every excluded item) are open again."""
    return _act("include", project_id, body, session, user)


@router.post("/duplicates/merge", response_model=ActionOut)
def merge(project_id: int, body: GroupsIn, session: SessionDep, user: CurrentUser) -> ActionOut:
    """Keep each group's representative; the others are excluded with meta.duplicate_of."""
    return _act("merge", project_id, body, session, user)


@router.post("/duplicates/drop", response_model=ActionOut)
def drop(project_id: int, body: GroupsIn, session: SessionDep, user: CurrentUser) -> ActionOut:
    """Delete the redundant members that have no annotations; 422 listing annotated ones."""
    return _act("drop", project_id, body, session, user)
