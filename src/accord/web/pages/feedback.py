"""Questions and performance pages. The Questions page lists the project's threads (an
annotator's own only) with search and a status filter, and shows one thread with its answers;
replies, resolve/reopen and "Make a guideline example" go through the REST API
(static/components/feedback.js). The Performance page shows reviewers and managers the
leaderboard and annotators their own figures, with a per-day trend."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from accord.api.deps import ReadSessionDep
from accord.core import guideline_examples, performance, projects, threads, users
from accord.core.policies import ProjectPolicy, authorize, can
from accord.errors import NotFound
from accord.web.auth import PageUser
from accord.web.render import page

router = APIRouter(include_in_schema=False)
PAGE = 50


@router.get("/projects/{project_id}/questions", response_class=HTMLResponse)
def questions(
    project_id: int,
    request: Request,
    session: ReadSessionDep,
    user: PageUser,
    q: str = "",
    status: str = "",
    author: str = "",
    item: Annotated[str, Query()] = "",
    before: int | None = None,
) -> HTMLResponse:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    staff = can(session, user, ProjectPolicy.review(project))
    author_id = None
    if author and staff:
        try:
            author_id = users.get_user_by_name(session, author).id
        except NotFound:
            author_id = -1
    item_id = int(item) if item.strip().isdigit() else None
    f = threads.ThreadFilter(
        q.strip() or None, status if status in threads.STATUSES else None, None, item_id, author_id
    )
    found = threads.search_threads(session, project, user, f, before=before, limit=PAGE)
    return page(
        request,
        "questions.html",
        project=project,
        can_review=staff,
        can_manage=can(session, user, ProjectPolicy.manage(project)),
        threads=found,
        q=q,
        status=status,
        author=author,
        item=item,
        next_before=found[-1].thread.id if len(found) == PAGE else None,
        n_open=threads.count_open(session, project, user),
    )


@router.get("/projects/{project_id}/questions/{thread_id}", response_class=HTMLResponse)
def question(
    project_id: int, thread_id: int, request: Request, session: ReadSessionDep, user: PageUser
) -> HTMLResponse:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    thread = threads.get_thread(session, project, user, thread_id)
    return page(
        request,
        "question.html",
        project=project,
        can_review=can(session, user, ProjectPolicy.review(project)),
        can_manage=can(session, user, ProjectPolicy.manage(project)),
        thread=threads.summary(session, thread),
        messages=threads.messages(session, project, thread),
        sections=guideline_examples.sections(session, project),
        choice_controls=_choice_controls(projects.current_schema(session, project).schema),
    )


def _choice_controls(schema: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Single-choice controls and their label values, to pick the answer an example shows."""
    out = []
    for control in schema.get("controls", []):
        if control.get("type") == "choices" and not control.get("multiple"):
            labels = [
                str(label["value"]) if isinstance(label, dict) else str(label)
                for label in control.get("labels", [])
            ]
            out.append((str(control["name"]), labels))
    return out


@router.get("/projects/{project_id}/performance", response_class=HTMLResponse)
def performance_page(
    project_id: int, request: Request, session: ReadSessionDep, user: PageUser
) -> HTMLResponse:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    staff = can(session, user, ProjectPolicy.review(project))
    return page(
        request,
        "performance.html",
        project=project,
        can_review=staff,
        can_manage=can(session, user, ProjectPolicy.manage(project)),
        board=performance.performance(session, project) if staff else None,
        mine=None if staff else performance.my_performance(session, project, user),
        gap_cap_minutes=int(performance.GAP_CAP_SECONDS // 60),
        trend_days=performance.TREND_DAYS,
    )
