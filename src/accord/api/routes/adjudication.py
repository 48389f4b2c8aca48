"""Adjudication: the items whose answers disagree, lowest agreement first, and their decision."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from accord.api.deps import CurrentUser, ReadSessionDep, SessionDep
from accord.api.payloads import AnnotationOut, ItemOut
from accord.core import adjudication, projects
from accord.core.policies import ProjectPolicy, authorize
from accord.db.models import Adjudication, Project

router = APIRouter(prefix="/projects/{project_id}", tags=["adjudication"])


class AdjudicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    item_id: int
    status: str
    agreement: float = Field(description="mean pairwise agreement of the answers when opened")
    reason: str
    result: dict[str, Any] | None = Field(description="the decided result: the ground truth")
    provenance: dict[str, Any]
    resolved_by: int | None
    created_at: datetime
    resolved_at: datetime | None


class AnswerOut(BaseModel):
    annotation: AnnotationOut
    author: str | None


class PairOut(BaseModel):
    a: int = Field(description="annotation id")
    b: int = Field(description="annotation id")
    agreement: float
    controls: dict[str, float] = Field(description="agreement per control either answered")


class CaseOut(BaseModel):
    adjudication: AdjudicationOut
    item: ItemOut
    answers: list[AnswerOut]
    agreement: float = Field(description="mean pairwise agreement of the answers as they are now")
    pairs: list[PairOut]
    remaining: int = Field(description="open adjudications in the project")


class ResolveIn(BaseModel):
    result: dict[str, Any] | None = Field(
        default=None, description="the decided result; defaults to the picked answer's"
    )
    picked_annotation_id: int | None = Field(
        default=None, description="the answer the decision takes (or was edited from)"
    )


def _case(session: Session, project: Project, row: Adjudication) -> CaseOut:
    case = adjudication.case_of(session, project, row)
    return CaseOut(
        adjudication=AdjudicationOut.model_validate(case.adjudication),
        item=ItemOut.model_validate(case.item),
        answers=[
            AnswerOut(annotation=AnnotationOut.model_validate(a.annotation), author=a.author)
            for a in case.answers
        ],
        agreement=case.agreement.agreement,
        pairs=[
            PairOut(a=p.a, b=p.b, agreement=p.agreement, controls=p.controls)
            for p in case.agreement.pairs
        ],
        remaining=adjudication.count_open(session, project),
    )


@router.get(
    "/adjudication/next",
    response_model=CaseOut,
    responses={204: {"description": "No open adjudication."}},
)
def next_adjudication(
    project_id: int,
    session: ReadSessionDep,
    user: CurrentUser,
    skip: Annotated[list[int] | None, Query(description="item ids to pass by")] = None,
) -> CaseOut | Response:
    """The open item with the lowest agreement, every current answer with its author, and the
    answers' pairwise agreement."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    row = adjudication.next_open(session, project, skip=skip or ())
    if row is None:
        return Response(status_code=204)
    return _case(session, project, row)


@router.get("/adjudications", response_model=list[AdjudicationOut])
def list_adjudications(
    project_id: int,
    session: ReadSessionDep,
    user: CurrentUser,
    status: Literal["open", "resolved"] | None = None,
    after: Annotated[int, Query(ge=0, description="item id to continue after")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AdjudicationOut]:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    rows = adjudication.list_adjudications(
        session, project, status=status, after=after, limit=limit
    )
    return [AdjudicationOut.model_validate(r) for r in rows]


@router.get("/adjudications/{item_id}", response_model=CaseOut)
def get_adjudication(
    project_id: int, item_id: int, session: ReadSessionDep, user: CurrentUser
) -> CaseOut:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    return _case(session, project, adjudication.get_adjudication(session, project, item_id))


@router.post("/adjudications/{item_id}", response_model=AdjudicationOut)
def resolve(
    project_id: int, item_id: int, body: ResolveIn, session: SessionDep, user: CurrentUser
) -> AdjudicationOut:
    """Decide the item: its ground truth, with provenance. 422 names the control and the rule
    when the result does not fit the schema."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    row = adjudication.resolve(
        session,
        project,
        user,
        item_id,
        body.result,
        picked_annotation_id=body.picked_annotation_id,
    )
    return AdjudicationOut.model_validate(row)
