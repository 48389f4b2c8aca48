"""Review: the next item to review with its annotations, and verdicts on annotations."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from accord.api.deps import CurrentUser, SessionDep
from accord.api.payloads import AnnotationOut, ItemOut, ReviewIn, ReviewOut, SuspectOut
from accord.core import annotations as annotation_ops
from accord.core import projects, reviews, suspects
from accord.core.policies import ProjectPolicy, authorize

router = APIRouter(prefix="/projects/{project_id}", tags=["review"])


class ReviewedAnnotationOut(BaseModel):
    annotation: AnnotationOut
    author: str | None
    verdicts: list[ReviewOut]


class ReviewItemOut(BaseModel):
    item: ItemOut
    annotations: list[ReviewedAnnotationOut]
    remaining: int
    suspects: list[SuspectOut] = Field(description="why the item is suspected of a label error")


@router.get(
    "/review/next",
    response_model=ReviewItemOut,
    responses={204: {"description": "Nothing left to review."}},
)
def next_to_review(
    project_id: int,
    session: SessionDep,
    user: CurrentUser,
    after: int = 0,
    queue: Annotated[
        Literal["unreviewed", "suspected"],
        Query(description="unreviewed answers in item order, or suspected errors by rank"),
    ] = "unreviewed",
) -> ReviewItemOut | Response:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    if queue == "suspected":
        item = suspects.next_suspect(session, project, after_item=after)
        remaining = suspects.count_open(session, project)
    else:
        item = reviews.next_item_to_review(session, project, after=after)
        remaining = reviews.count_to_review(session, project)
    if item is None:
        return Response(status_code=204)
    return ReviewItemOut(
        item=ItemOut.model_validate(item),
        annotations=[
            ReviewedAnnotationOut(
                annotation=AnnotationOut.model_validate(r.annotation),
                author=r.author,
                verdicts=[ReviewOut.model_validate(v) for v in r.verdicts],
            )
            for r in reviews.item_annotations(session, item, waiting_only=queue == "unreviewed")
        ],
        remaining=remaining,
        suspects=[SuspectOut.model_validate(s) for s in suspects.suspects_of_item(session, item)],
    )


@router.post("/annotations/{annotation_id}/review", response_model=ReviewOut, status_code=201)
def review_annotation(
    project_id: int, annotation_id: int, body: ReviewIn, session: SessionDep, user: CurrentUser
) -> ReviewOut:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    annotation = annotation_ops.get_annotation(session, project, annotation_id)
    verdict = reviews.review(
        session, project, user, annotation, body.verdict, reason=body.reason, result=body.result
    )
    return ReviewOut.model_validate(verdict)
