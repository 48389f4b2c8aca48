"""Questions and flags: an annotator asks about an item they hold or held (or about the project)
or flags it; reviewers and managers answer. A thread is resolved and may be reopened; every
change is in the audit log. Annotators see only their own threads; reviewers and managers all.
A manager turns a thread into a guideline example in one step (core/guideline_examples.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from accord.core import audit, guideline_examples
from accord.core.items import get_item, has_assignment
from accord.core.policies import ProjectPolicy, can
from accord.db.models import (
    GuidelineExample,
    Project,
    Thread,
    ThreadMessage,
    User,
    utcnow,
)
from accord.errors import Conflict, Forbidden, InvalidInput, NotFound

KINDS = ("question", "flag")
STATUSES = ("open", "resolved")
MAX_TITLE = 300
MAX_BODY = 20_000
MAX_PAGE = 200


@dataclass(frozen=True)
class ThreadSummary:
    thread: Thread
    author: str | None
    n_messages: int
    last_message_at: datetime | None


@dataclass(frozen=True)
class MessageView:
    message: ThreadMessage
    author: str | None
    staff: bool
    """Whether the author answers as a reviewer or manager of the project."""


@dataclass(frozen=True)
class ThreadFilter:
    q: str | None = None
    status: str | None = None
    kind: str | None = None
    item_id: int | None = None
    author_id: int | None = None


def _text(value: str, field: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"{field} must not be empty", [{"field": field, "rule": "required"}])
    if len(value) > limit:
        raise InvalidInput(
            f"{field} is longer than {limit} characters", [{"field": field, "rule": "max_length"}]
        )
    return value


def _choice(value: str | None, allowed: tuple[str, ...], field: str) -> None:
    if value is not None and value not in allowed:
        raise InvalidInput(
            f"{field} must be one of {', '.join(allowed)}", [{"field": field, "rule": "choice"}]
        )


def is_staff(session: Session, user: User, project: Project) -> bool:
    return can(session, user, ProjectPolicy.review(project))


def create_thread(
    session: Session,
    project: Project,
    user: User,
    *,
    kind: str,
    title: str,
    body: str,
    item_id: int | None = None,
) -> Thread:
    """A question or a flag, with its first message. An annotator may only raise it on an item
    they hold or held; other items do not exist for them."""
    _choice(kind, KINDS, "kind")
    title = _text(title, "title", MAX_TITLE)
    body = _text(body, "body", MAX_BODY)
    if item_id is not None:
        item = get_item(session, project, item_id)
        if not is_staff(session, user, project) and not has_assignment(session, item.id, user.id):
            raise NotFound(f"item {item_id} not found in project {project.id}")
    thread = Thread(
        project_id=project.id, item_id=item_id, kind=kind, title=title, author_id=user.id
    )
    session.add(thread)
    session.flush()
    session.add(ThreadMessage(thread_id=thread.id, author_id=user.id, body=body))
    session.flush()
    audit.record(
        session,
        actor_id=user.id,
        action=f"thread.{kind}",
        entity="thread",
        entity_id=thread.id,
        project_id=project.id,
        item_id=item_id,
    )
    return thread


def get_thread(session: Session, project: Project, user: User, thread_id: int) -> Thread:
    """The thread as ``user`` may see it: an annotator's own threads only."""
    thread = session.get(Thread, thread_id)
    if (
        thread is None
        or thread.project_id != project.id
        or (not is_staff(session, user, project) and thread.author_id != user.id)
    ):
        raise NotFound(f"thread {thread_id} not found in project {project.id}")
    return thread


def reply(
    session: Session, project: Project, user: User, thread: Thread, body: str
) -> ThreadMessage:
    """An answer (reviewers, managers) or a follow-up by the author."""
    body = _text(body, "body", MAX_BODY)
    if thread.author_id != user.id and not is_staff(session, user, project):
        raise Forbidden("only the author, reviewers and managers may reply to this thread")
    message = ThreadMessage(thread_id=thread.id, author_id=user.id, body=body)
    session.add(message)
    session.flush()
    audit.record(
        session,
        actor_id=user.id,
        action="thread.reply",
        entity="thread",
        entity_id=thread.id,
        project_id=project.id,
        after_id=message.id,
    )
    return message


def set_status(
    session: Session, project: Project, user: User, thread: Thread, status: str
) -> Thread:
    """Resolve or reopen: reviewers, managers and the thread's author."""
    _choice(status, STATUSES, "status")
    if thread.author_id != user.id and not is_staff(session, user, project):
        raise Forbidden("only the author, reviewers and managers may resolve or reopen a thread")
    if thread.status == status:
        raise Conflict(f"thread {thread.id} is already {status}")
    thread.status = status
    if status == "resolved":
        thread.resolved_by, thread.resolved_at = user.id, utcnow()
    else:
        thread.resolved_by, thread.resolved_at = None, None
    session.flush()
    audit.record(
        session,
        actor_id=user.id,
        action="thread.resolve" if status == "resolved" else "thread.reopen",
        entity="thread",
        entity_id=thread.id,
        project_id=project.id,
    )
    return thread


def messages(session: Session, project: Project, thread: Thread) -> list[MessageView]:
    rows = session.execute(
        select(ThreadMessage, User)
        .outerjoin(User, User.id == ThreadMessage.author_id)
        .where(ThreadMessage.thread_id == thread.id)
        .order_by(ThreadMessage.id)
    ).all()
    staff: dict[int, bool] = {}
    out = []
    for message, author in rows:
        name, answering = None, False
        if author is not None:
            if author.id not in staff:
                staff[author.id] = is_staff(session, author, project)
            name, answering = author.username, staff[author.id]
        out.append(MessageView(message, name, answering))
    return out


def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matches(word: str) -> ColumnElement[bool]:
    """The word in the title or in any message of the thread (case-insensitive)."""
    pattern = _like(word)
    in_message = exists().where(
        ThreadMessage.thread_id == Thread.id, ThreadMessage.body.ilike(pattern, escape="\\")
    )
    return or_(Thread.title.ilike(pattern, escape="\\"), in_message)


def search_threads(
    session: Session,
    project: Project,
    user: User,
    f: ThreadFilter,
    *,
    before: int | None = None,
    limit: int = 50,
) -> list[ThreadSummary]:
    """Threads newest first, keyset-paginated on the id (``before``: the last id of the
    previous page). Every word of ``q`` must appear in the title or a message."""
    _choice(f.status, STATUSES, "status")
    _choice(f.kind, KINDS, "kind")
    conditions: list[ColumnElement[bool]] = [Thread.project_id == project.id]
    if not is_staff(session, user, project):
        conditions.append(Thread.author_id == user.id)
    if f.status:
        conditions.append(Thread.status == f.status)
    if f.kind:
        conditions.append(Thread.kind == f.kind)
    if f.item_id is not None:
        conditions.append(Thread.item_id == f.item_id)
    if f.author_id is not None:
        conditions.append(Thread.author_id == f.author_id)
    conditions.extend(_matches(word) for word in (f.q or "").split()[:10])
    if before is not None:
        conditions.append(Thread.id < before)
    counts = (
        select(
            ThreadMessage.thread_id.label("thread_id"),
            func.count().label("n"),
            func.max(ThreadMessage.created_at).label("last_at"),
        )
        .group_by(ThreadMessage.thread_id)
        .subquery()
    )
    author = aliased(User)
    rows = session.execute(
        select(Thread, author.username, counts.c.n, counts.c.last_at)
        .outerjoin(author, author.id == Thread.author_id)
        .outerjoin(counts, counts.c.thread_id == Thread.id)
        .where(and_(*conditions))
        .order_by(Thread.id.desc())
        .limit(min(limit, MAX_PAGE))
    ).all()
    return [ThreadSummary(t, name, int(n or 0), last) for t, name, n, last in rows]


def summary(session: Session, thread: Thread) -> ThreadSummary:
    n, last = session.execute(
        select(func.count(), func.max(ThreadMessage.created_at)).where(
            ThreadMessage.thread_id == thread.id
        )
    ).one()
    author = session.get(User, thread.author_id) if thread.author_id is not None else None
    return ThreadSummary(thread, author.username if author else None, int(n), last)


def count_open(session: Session, project: Project, user: User) -> int:
    query = select(func.count()).where(Thread.project_id == project.id, Thread.status == "open")
    if not is_staff(session, user, project):
        query = query.where(Thread.author_id == user.id)
    return int(session.scalar(query) or 0)


def make_example(
    session: Session,
    project: Project,
    actor: User,
    thread: Thread,
    *,
    kind: str,
    note: str | None = None,
    section: str = "",
    result: Mapping[str, Any] | None = None,
) -> GuidelineExample:
    """The thread's item (and ``result``, the answer, when given) becomes a guideline example.
    Without a note, the newest answer by a reviewer or manager is the note, else the title."""
    if not (note or "").strip():
        answers = [m for m in messages(session, project, thread) if m.staff]
        note = answers[-1].message.body if answers else thread.title
    example = guideline_examples.create_example(
        session,
        project,
        actor,
        item_id=thread.item_id,
        kind=kind,
        result=result,
        note=note,
        section=section,
        source="question",
    )
    audit.record(
        session,
        actor_id=actor.id,
        action="thread.example",
        entity="thread",
        entity_id=thread.id,
        project_id=project.id,
        after_id=example.id,
    )
    return example
