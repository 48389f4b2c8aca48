"""Gold items: their answers (managers only), accuracy per annotator, pauses and notices."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from accord.api.deps import CurrentUser, ReadSessionDep, SessionDep
from accord.core import gold, projects, users
from accord.core.policies import ProjectPolicy, authorize, can

router = APIRouter(prefix="/projects/{project_id}", tags=["gold"])


class GoldIn(BaseModel):
    result: dict[str, Any] = Field(description="the known answer, in the annotation format")


class GoldOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    item_id: int
    result: dict[str, Any]
    created_at: datetime


class GoldAccuracyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    username: str
    n_answers: int
    n_correct: int
    accuracy: float
    low: float = Field(description="95% Wilson interval")
    high: float
    paused: bool


class PauseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    user_id: int
    role: str
    paused_at: datetime | None
    pause_reason: str | None


class NotificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    message: str
    subject_user_id: int | None
    created_at: datetime
    read_at: datetime | None


@router.put("/items/{item_id}/gold", response_model=GoldOut)
def set_gold(
    project_id: int, item_id: int, body: GoldIn, session: SessionDep, user: CurrentUser
) -> GoldOut:
    """Make the item gold with this answer (or change its answer); 422 names the field and
    rule when the answer does not fit the schema."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    return GoldOut.model_validate(gold.set_gold(session, project, item_id, body.result, user))


@router.delete("/items/{item_id}/gold", status_code=204)
def unset_gold(project_id: int, item_id: int, session: SessionDep, user: CurrentUser) -> None:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    gold.unset_gold(session, project, item_id, user)


@router.get("/gold", response_model=list[GoldOut])
def list_gold(
    project_id: int,
    session: ReadSessionDep,
    user: CurrentUser,
    after: int = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[GoldOut]:
    """Gold items with their answers, by item id (managers only)."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    rows = gold.gold_answers(session, project, after=after, limit=limit)
    return [GoldOut.model_validate(r) for r in rows]


@router.get("/gold/accuracy", response_model=list[GoldAccuracyOut])
def gold_accuracy(
    project_id: int, session: ReadSessionDep, user: CurrentUser
) -> list[GoldAccuracyOut]:
    """Accuracy on gold items per annotator with a 95% Wilson interval; an annotator sees only
    their own row."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    mine = None if can(session, user, ProjectPolicy.review(project)) else user.id
    rows = gold.gold_accuracy(session, project, user_id=mine)
    return [GoldAccuracyOut.model_validate(r) for r in rows]


@router.post("/members/{username}/resume", response_model=PauseOut)
def resume_member(
    project_id: int, username: str, session: SessionDep, user: CurrentUser
) -> PauseOut:
    """Let a paused annotator work again."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    member = users.get_user_by_name(session, username)
    return PauseOut.model_validate(gold.resume(session, project, member.id, user))


@router.get("/pauses", response_model=list[PauseOut])
def list_pauses(project_id: int, session: ReadSessionDep, user: CurrentUser) -> list[PauseOut]:
    """Members currently paused, with the reason."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    return [PauseOut.model_validate(m) for m in gold.paused_members(session, project)]


@router.get("/notifications", response_model=list[NotificationOut])
def list_notifications(
    project_id: int, session: ReadSessionDep, user: CurrentUser, unread: bool = False
) -> list[NotificationOut]:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    rows = gold.notifications(session, project, unread_only=unread)
    return [NotificationOut.model_validate(n) for n in rows]


@router.post("/notifications/{notification_id}/read", status_code=204)
def read_notification(
    project_id: int, notification_id: int, session: SessionDep, user: CurrentUser
) -> None:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    gold.mark_read(session, project, notification_id)
