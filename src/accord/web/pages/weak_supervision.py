"""The weak-supervision page (managers): the project's labeling functions (added, edited and
deleted through the REST API), a run of the label model with its progress, the newest run's
summary per function, the probabilistic labels it stored for review, and the project's item
embeddings (computed from here) behind "More like this"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from accord.api.deps import ReadSessionDep
from accord.core import labeling_functions as lfs
from accord.core import projects, vectors
from accord.core.policies import ProjectPolicy, authorize
from accord.core.schemas import current_schema, parsed_schema
from accord.db.models import LabelingFunction
from accord.web.auth import PageUser
from accord.web.render import page

router = APIRouter(include_in_schema=False)
REVIEW_PAGE = 25
METHOD_NAMES = {
    "dawid_skene": "Dawid–Skene (abstentions count)",
    "majority": "Majority vote",
    "dawid_skene_votes": "Dawid–Skene on the votes only",
}


def describe(function: LabelingFunction) -> str:
    """What a function looks for, in a few words."""
    config = function.config or {}
    if function.kind == "keywords":
        return ", ".join(str(k) for k in config.get("keywords", []))
    if function.kind == "regex":
        return str(config.get("pattern", ""))
    return str(config.get("function", ""))


@router.get("/projects/{project_id}/weak-supervision", response_class=HTMLResponse)
def weak_supervision_page(
    project_id: int,
    request: Request,
    session: ReadSessionDep,
    user: PageUser,
    min_score: Annotated[float, Query(ge=0, le=1)] = 0.0,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    schema = parsed_schema(current_schema(session, project).schema)
    controls = {c: schema.labels(c) for c in lfs.single_choice_controls(schema)}
    functions = lfs.list_functions(session, project)
    run = lfs.latest_run(session, project)
    review = lfs.review_predictions(
        session, project, min_score=min_score, offset=offset, limit=REVIEW_PAGE
    )
    return page(
        request,
        "weak_supervision.html",
        project=project,
        can_review=True,
        can_manage=True,
        controls=controls,
        functions=[{"row": f, "text": describe(f)} for f in functions],
        kinds=lfs.KINDS,
        methods=[(m, METHOD_NAMES.get(m, m)) for m in lfs.METHODS],
        run=run,
        report=(run.result or {}) if run is not None else None,
        active_run=lfs.active_run(session, project),
        n_items=lfs.count_items(session, project),
        review=review,
        review_page=REVIEW_PAGE,
        min_score=min_score,
        offset=offset,
        embedders=vectors.embedders(session, project),
        embed_job=vectors.active_embed_job(session, project),
    )
