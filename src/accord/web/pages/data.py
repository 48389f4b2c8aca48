"""Getting data in and out from the browser: the import page and the export page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from accord.api.deps import ReadSessionDep
from accord.core import imports, projects
from accord.core.policies import ProjectPolicy, authorize
from accord.io import EXPORTERS
from accord.web.auth import PageUser
from accord.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/projects/{project_id}/import", response_class=HTMLResponse)
def import_page(
    project_id: int, request: Request, session: ReadSessionDep, user: PageUser
) -> HTMLResponse:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    batches = list(reversed(imports.list_batches(session, project)))
    return page(
        request,
        "import.html",
        project=project,
        can_review=True,
        can_manage=True,
        batches=batches,
    )


@router.get("/projects/{project_id}/export", response_class=HTMLResponse)
def export_page(
    project_id: int, request: Request, session: ReadSessionDep, user: PageUser
) -> HTMLResponse:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    controls = [c["name"] for c in projects.current_schema(session, project).schema["controls"]]
    return page(
        request,
        "export.html",
        project=project,
        can_review=True,
        can_manage=True,
        formats=sorted(EXPORTERS),
        controls=controls,
    )
