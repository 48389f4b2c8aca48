"""The quality page: per single-choice control, the newest quality run's agreement, annotators
and suspected errors; managers start a new run from it (static/components/quality-recompute.js
through the REST API). Above them, every annotator's accuracy on the gold items and their pauses,
which managers lift from here (static/components/gold-accuracy.js)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from accord.api.deps import ReadSessionDep
from accord.core import projects, quality, quality_overview, suspects
from accord.core.consensus_methods import METHODS
from accord.core.policies import ProjectPolicy, authorize, can
from accord.web.auth import PageUser
from accord.web.render import page

router = APIRouter(include_in_schema=False)
TOP_SUSPECTS = 10


@router.get("/projects/{project_id}/quality", response_class=HTMLResponse)
def quality_page(
    project_id: int, request: Request, session: ReadSessionDep, user: PageUser
) -> HTMLResponse:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    manager = can(session, user, ProjectPolicy.manage(project))
    return page(
        request,
        "quality.html",
        project=project,
        can_review=True,
        can_manage=manager,
        controls=quality.categorical_controls(session, project),
        overviews=quality_overview.control_overviews(session, project, top=TOP_SUSPECTS),
        n_open=suspects.count_open(session, project),
        methods=sorted(METHODS),
        active_job=quality_overview.active_quality_job(session, project) if manager else None,
        gold=quality_overview.gold_overview(session, project),
    )
