"""Questions and flags on items (or the project): asked by annotators, answered by reviewers
and managers, resolved and reopened, searched; a manager turns one into a guideline example."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from accord.api.deps import CurrentUser, ReadSessionDep, SessionDep
from accord.api.routes.guideline_examples import ExampleOut, example_out
from accord.core import guideline_examples, projects, threads, users
from accord.core.policies import ProjectPolicy, authorize
from accord.core.threads import MessageView, ThreadSummary

router = APIRouter(prefix="/projects/{project_id}/threads", tags=["questions"])


class ThreadIn(BaseModel):
    kind: Literal["question", "flag"] = "question"
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=20_000, description="the question or the reason")
    item_id: int | None = Field(default=None, description="the item (none: about the project)")


class MessageIn(BaseModel):
    body: str = Field(min_length=1, max_length=20_000)


class ThreadExampleIn(BaseModel):
    kind: Literal["example", "counter_example"]
    note: str = Field(default="", description="default: the newest answer of a reviewer/manager")
    section: str = Field(default="", max_length=300)
    result: dict[str, Any] | None = Field(
        default=None, description="the answer to show with the item (some controls)"
    )


class ThreadOut(BaseModel):
    id: int
    kind: str
    title: str
    status: str
    item_id: int | None
    author: str | None
    created_at: datetime
    resolved_at: datetime | None
    n_messages: int
    last_message_at: datetime | None


class MessageOut(BaseModel):
    id: int
    author: str | None
    staff: bool = Field(description="written by a reviewer or manager of the project")
    body: str
    created_at: datetime


class ThreadDetailOut(ThreadOut):
    messages: list[MessageOut]


class ThreadPage(BaseModel):
    threads: list[ThreadOut]
    next_before: int | None = Field(description="pass as ?before= for the next page")


def thread_out(s: ThreadSummary) -> ThreadOut:
    t = s.thread
    return ThreadOut(
        id=t.id,
        kind=t.kind,
        title=t.title,
        status=t.status,
        item_id=t.item_id,
        author=s.author,
        created_at=t.created_at,
        resolved_at=t.resolved_at,
        n_messages=s.n_messages,
        last_message_at=s.last_message_at,
    )


def message_out(m: MessageView) -> MessageOut:
    return MessageOut(
        id=m.message.id,
        author=m.author,
        staff=m.staff,
        body=m.message.body,
        created_at=m.message.created_at,
    )


@router.post("", response_model=ThreadOut, status_code=201)
def create_thread(
    project_id: int, body: ThreadIn, session: SessionDep, user: CurrentUser
) -> ThreadOut:
    """Ask a question or flag an item you hold or held (any item for reviewers/managers)."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.annotate(project))
    thread = threads.create_thread(
        session,
        project,
        user,
        kind=body.kind,
        title=body.title,
        body=body.body,
        item_id=body.item_id,
    )
    return thread_out(threads.summary(session, thread))


@router.get("", response_model=ThreadPage)
def list_threads(
    project_id: int,
    session: ReadSessionDep,
    user: CurrentUser,
    q: Annotated[str | None, Query(description="words in the title or the messages")] = None,
    status: Literal["open", "resolved"] | None = None,
    kind: Literal["question", "flag"] | None = None,
    item_id: int | None = None,
    author: Annotated[str | None, Query(description="username")] = None,
    before: int | None = None,
    limit: Annotated[int, Query(ge=1, le=threads.MAX_PAGE)] = 50,
) -> ThreadPage:
    """Newest first; annotators see their own threads only."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    author_id = users.get_user_by_name(session, author).id if author else None
    f = threads.ThreadFilter(q, status, kind, item_id, author_id)
    found = threads.search_threads(session, project, user, f, before=before, limit=limit)
    next_before = found[-1].thread.id if len(found) == limit else None
    return ThreadPage(threads=[thread_out(s) for s in found], next_before=next_before)


def _detail(session: Any, project: Any, thread: Any) -> ThreadDetailOut:
    out = thread_out(threads.summary(session, thread))
    return ThreadDetailOut(
        **out.model_dump(),
        messages=[message_out(m) for m in threads.messages(session, project, thread)],
    )


@router.get("/{thread_id}", response_model=ThreadDetailOut)
def get_thread(
    project_id: int, thread_id: int, session: ReadSessionDep, user: CurrentUser
) -> ThreadDetailOut:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    return _detail(session, project, threads.get_thread(session, project, user, thread_id))


@router.post("/{thread_id}/messages", response_model=MessageOut, status_code=201)
def reply(
    project_id: int, thread_id: int, body: MessageIn, session: SessionDep, user: CurrentUser
) -> MessageOut:
    """An answer (reviewers, managers) or a follow-up by the author."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    thread = threads.get_thread(session, project, user, thread_id)
    message = threads.reply(session, project, user, thread, body.body)
    staff = threads.is_staff(session, user, project)
    return message_out(MessageView(message, user.username, staff))


@router.post("/{thread_id}/resolve", response_model=ThreadDetailOut)
def resolve(
    project_id: int, thread_id: int, session: SessionDep, user: CurrentUser
) -> ThreadDetailOut:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    thread = threads.get_thread(session, project, user, thread_id)
    return _detail(session, project, threads.set_status(session, project, user, thread, "resolved"))


@router.post("/{thread_id}/reopen", response_model=ThreadDetailOut)
def reopen(
    project_id: int, thread_id: int, session: SessionDep, user: CurrentUser
) -> ThreadDetailOut:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    thread = threads.get_thread(session, project, user, thread_id)
    return _detail(session, project, threads.set_status(session, project, user, thread, "open"))


@router.post("/{thread_id}/example", response_model=ExampleOut, status_code=201)
def make_example(
    project_id: int, thread_id: int, body: ThreadExampleIn, session: SessionDep, user: CurrentUser
) -> ExampleOut:
    """The thread's item (with ``result`` when given) becomes a guideline example (source
    ``question``); 409 for a gold item."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    thread = threads.get_thread(session, project, user, thread_id)
    example = threads.make_example(
        session,
        project,
        user,
        thread,
        kind=body.kind,
        note=body.note,
        section=body.section,
        result=body.result,
    )
    return example_out(guideline_examples.view_of(session, example))
