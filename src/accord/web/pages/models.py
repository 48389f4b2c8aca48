"""The models page (managers): the project's model backends with their version, fit and last
error, a Train now button that follows the job (static/components/models.js, through the REST
API), the form to add or change a model, the acceptance of each model version's pre-labels and
the model-driven queue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.api.deps import ReadSessionDep
from accord.automation.backends import BACKEND_KINDS
from accord.core import model_backends, model_queue, prelabels, projects
from accord.core.policies import ProjectPolicy, authorize
from accord.core.schemas import parsed_schema
from accord.db.models import Item, Job, Project
from accord.db.models import ModelBackend as BackendRow
from accord.errors import AccordError
from accord.web.auth import PageUser
from accord.web.render import page

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class BackendView:
    row: BackendRow
    trainable: bool | None
    """None when the model cannot be built any more (e.g. its control left the schema)."""
    problem: str | None
    job: Job | None
    labels_now: int


def _view(session: Session, project: Project, row: BackendRow) -> BackendView:
    trainable: bool | None = None
    problem = None
    try:
        trainable = model_backends.build(session, project, row).trainable
    except AccordError as exc:
        problem = exc.message
    return BackendView(
        row=row,
        trainable=trainable,
        problem=problem,
        job=model_backends.active_job(session, row),
        labels_now=model_backends.human_labels(session, project.id, row.control),
    )


def _controls(session: Session, project: Project) -> list[dict[str, Any]]:
    schema = parsed_schema(projects.current_schema(session, project).schema)
    return [{"name": c.name, "type": c.type} for c in schema.controls.values()]


@router.get("/projects/{project_id}/models", response_class=HTMLResponse)
def models_page(
    project_id: int, request: Request, session: ReadSessionDep, user: PageUser
) -> HTMLResponse:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    n_open = session.scalar(
        select(func.count()).where(Item.project_id == project.id, Item.status == "open")
    )
    driver = model_queue.queue_backend(session, project)
    return page(
        request,
        "models.html",
        project=project,
        can_review=True,
        can_manage=True,
        backends=[
            _view(session, project, r) for r in model_backends.list_backends(session, project)
        ],
        kinds=list(BACKEND_KINDS),
        controls=_controls(session, project),
        acceptance=prelabels.acceptance(session, project),
        n_open=int(n_open or 0),
        model_strategies=model_queue.MODEL_STRATEGIES,
        queue_model=driver.name if driver is not None else None,
    )
