"""The adjudication page: a shell around <accord-adjudicator>, which talks to the adjudication
API (the open item with the lowest agreement, its answers side by side, and the decision)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from accord.api.deps import ReadSessionDep
from accord.core import adjudication, projects
from accord.core.policies import ProjectPolicy, authorize, can
from accord.web.auth import PageUser
from accord.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/projects/{project_id}/adjudicate", response_class=HTMLResponse)
def adjudicate(
    project_id: int, request: Request, session: ReadSessionDep, user: PageUser
) -> HTMLResponse:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    return page(
        request,
        "adjudicate.html",
        project=project,
        schema=projects.current_schema(session, project),
        can_review=True,
        can_manage=can(session, user, ProjectPolicy.manage(project)),
        n_open=adjudication.count_open(session, project),
    )
