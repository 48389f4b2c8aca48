"""The practice page: a shell around <accord-trainer mode="practice">, which talks to the API."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from accord.api.deps import ReadSessionDep
from accord.core import projects
from accord.core.policies import ProjectPolicy, authorize, can
from accord.errors import Forbidden
from accord.web.auth import PageUser
from accord.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/projects/{project_id}/practice", response_class=HTMLResponse)
def practice(
    project_id: int, request: Request, session: ReadSessionDep, user: PageUser
) -> HTMLResponse:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.annotate(project))
    if not project.practice_enabled:
        raise Forbidden("practice is switched off on this project")
    return page(
        request,
        "practice.html",
        project=project,
        schema=projects.current_schema(session, project),
        can_review=can(session, user, ProjectPolicy.review(project)),
        can_manage=can(session, user, ProjectPolicy.manage(project)),
    )
