"""The duplicates page (managers): the redundancy of the project's items, the group size
histogram and the groups with previews; the check runs and the groups are excluded, merged,
dropped or included again through the REST API (static/components/duplicates.js)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from accord.api.deps import ReadSessionDep
from accord.core import duplicate_reports, duplicates, projects
from accord.core.policies import ProjectPolicy, authorize
from accord.web.auth import PageUser
from accord.web.render import page

router = APIRouter(include_in_schema=False)
PAGE = 20


@router.get("/projects/{project_id}/duplicates", response_class=HTMLResponse)
def duplicates_page(
    project_id: int,
    request: Request,
    session: ReadSessionDep,
    user: PageUser,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    report = duplicate_reports.summary(session, project, top=0)
    total = duplicate_reports.count_groups(session, project)
    largest = max(report.histogram.values(), default=0)
    return page(
        request,
        "duplicates.html",
        project=project,
        can_review=True,
        can_manage=True,
        report=report,
        histogram=[
            (size, n, 100 * n / largest if largest else 0) for size, n in report.histogram.items()
        ],
        groups=duplicate_reports.groups(session, project, offset=offset, limit=PAGE),
        total=total,
        offset=offset,
        page_size=PAGE,
        defaults=duplicates.CheckParams(),
        methods=duplicates.METHODS,
        stages=duplicates.stages(duplicates.CheckParams()),
        active_job=duplicate_reports.active_job(session, project),
    )
