"""Review: the next item to review with its annotations, and verdicts on annotations."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel

from accord.api.deps import CurrentUser, SessionDep
from accord.api.payloads import AnnotationOut, ItemOut, ReviewIn, ReviewOut
from accord.core import annotations as annotation_ops
from accord.core import projects, reviews
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


@router.get(
    "/review/next",
    response_model=ReviewItemOut,
    responses={204: {"description": "Nothing left to review."}},
)
def next_to_review(
    project_id: int, session: SessionDep, user: CurrentUser, after: int = 0
) -> ReviewItemOut | Response:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    item = reviews.next_item_to_review(session, project, after=after)
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
            for r in reviews.item_annotations(session, item)
        ],
        remaining=reviews.count_to_review(session, project),
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
