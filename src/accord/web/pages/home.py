"""The projects list and a project's overview (for managers with the project's unread
notifications, marked as read through the REST API: static/components/notifications.js)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from accord.api.deps import ReadSessionDep
from accord.core import gold, overlap, progress, projects
from accord.core.policies import ProjectPolicy, authorize, can, role_in
from accord.web.auth import PageUser
from accord.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def project_list(request: Request, session: ReadSessionDep, user: PageUser) -> HTMLResponse:
    rows = []
    for project in projects.list_projects(session, user):
        role = role_in(session, user, project.id)
        rows.append(
            {
                "project": project,
                "role": role.name if role else "administrator",
                "progress": progress.project_progress(session, project),
                "mine": progress.own_submissions(session, project, user.id),
            }
        )
    return page(request, "projects.html", rows=rows)


@router.get("/projects/{project_id}", response_class=HTMLResponse)
def overview(
    project_id: int, request: Request, session: ReadSessionDep, user: PageUser
) -> HTMLResponse:
    project = projects.get_project(session, project_id)
    role = authorize(session, user, ProjectPolicy.view(project))
    manager = can(session, user, ProjectPolicy.manage(project))
    reviewer = can(session, user, ProjectPolicy.review(project))
    adaptive = project.adaptive_overlap and reviewer
    return page(
        request,
        "project.html",
        project=project,
        role=role.name,
        can_review=reviewer,
        can_manage=manager,
        counts=projects.project_counts(session, project, with_gold=reviewer),
        progress=progress.project_progress(session, project),
        mine=progress.own_submissions(session, project, user.id),
        workers=progress.active_workers(session, project) if manager else [],
        schema=projects.current_schema(session, project),
        notifications=gold.notifications(session, project, unread_only=True) if manager else [],
        pause=gold.member_pause(session, project, user.id),
        overlap_start=overlap.start(project),
        labels_saved=overlap.labels_saved(session, project) if adaptive else None,
    )
