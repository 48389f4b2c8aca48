"""Project settings: schema and guidelines (versioned together), members, queue settings.

The page is rendered here; its forms save through the REST API (static/settings.js), so the
browser and programs go through the same checks and the same audit log."""

from __future__ import annotations

from typing import Annotated

import yaml
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from accord.api.deps import ReadSessionDep
from accord.core import personal_data, projects
from accord.core.consensus_methods import METHODS
from accord.core.policies import ProjectPolicy, authorize
from accord.core.strategies import STRATEGIES
from accord.web.auth import PageUser
from accord.web.render import markdown, page

router = APIRouter(include_in_schema=False)
ROLES = ("annotator", "reviewer", "manager")


@router.get("/projects/{project_id}/settings", response_class=HTMLResponse)
def settings_page(
    project_id: int, request: Request, session: ReadSessionDep, user: PageUser
) -> HTMLResponse:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    current = projects.current_schema(session, project)
    return page(
        request,
        "settings.html",
        project=project,
        can_review=True,
        can_manage=True,
        schema=current,
        schema_yaml=yaml.safe_dump(current.schema, sort_keys=False, allow_unicode=True),
        versions=list(reversed(projects.list_schema_versions(session, project))),
        members=projects.list_members(session, project),
        roles=ROLES,
        strategies=sorted(STRATEGIES),
        quality_methods=sorted(METHODS),
        pii_items=personal_data.count_items(session, project),
    )


@router.get("/projects/{project_id}/settings/versions/{version}", response_class=HTMLResponse)
def version_page(
    project_id: int, version: int, request: Request, session: ReadSessionDep, user: PageUser
) -> HTMLResponse:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    found = projects.get_schema_version(session, project, version)
    return page(
        request,
        "version.html",
        project=project,
        can_review=True,
        can_manage=True,
        version=found,
        schema_yaml=yaml.safe_dump(found.schema, sort_keys=False, allow_unicode=True),
    )


@router.post("/projects/{project_id}/settings/guidelines-preview", response_class=HTMLResponse)
def guidelines_preview(
    project_id: int, user: PageUser, guidelines: Annotated[str, Form()] = ""
) -> HTMLResponse:
    """The guidelines as annotators will see them (sanitised markdown); changes nothing."""
    return HTMLResponse(markdown(guidelines))
