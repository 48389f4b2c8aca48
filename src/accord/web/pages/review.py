"""The review page: a shell around <accord-reviewer>, which talks to the review API. Two queues:
the unreviewed answers, and the items suspected of a label error (``?queue=suspected``)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from accord.api.deps import ReadSessionDep
from accord.core import projects, reviews, suspects
from accord.core.policies import ProjectPolicy, authorize, can
from accord.web.auth import PageUser
from accord.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/projects/{project_id}/review", response_class=HTMLResponse)
def review(
    project_id: int,
    request: Request,
    session: ReadSessionDep,
    user: PageUser,
    queue: Annotated[Literal["unreviewed", "suspected"], Query()] = "unreviewed",
) -> HTMLResponse:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    return page(
        request,
        "review.html",
        project=project,
        schema=projects.current_schema(session, project),
        can_review=True,
        can_manage=can(session, user, ProjectPolicy.manage(project)),
        queue=queue,
        n_unreviewed=reviews.count_to_review(session, project),
        n_suspected=suspects.count_open(session, project),
    )
