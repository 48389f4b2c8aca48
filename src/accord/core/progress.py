"""How far a project is: counts for managers, one's own share for annotators, who is at work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.db.models import Annotation, Assignment, Item, Project, User, utcnow


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    annotations: int

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 0.0


def project_progress(session: Session, project: Project) -> Progress:
    """Items done (all overlap slots submitted) out of all ordinary items (gold items and
    excluded duplicates are not work to finish), and the labels given so far on them; computed
    from the per-item counters, without touching the annotations table."""
    total, done, labels = session.execute(
        select(
            func.count(),
            func.count().filter(Item.status == "done"),
            func.coalesce(func.sum(Item.n_done), 0),
        ).where(Item.project_id == project.id, Item.status.not_in(("gold", "excluded")))
    ).one()
    return Progress(int(total), int(done), int(labels))


@dataclass(frozen=True)
class Worker:
    username: str
    submitted: int
    leased: int
    last_seen: datetime | None


def own_submissions(
    session: Session, project: Project, user_id: int, *, since: datetime | None = None
) -> int:
    """First versions the annotator submitted on the project (skips excluded), all or since."""
    query = select(func.count()).where(
        Annotation.project_id == project.id,
        Annotation.user_id == user_id,
        Annotation.version == 1,
        Annotation.skipped.is_(False),
    )
    if since is not None:
        query = query.where(Annotation.created_at >= since)
    return int(session.scalar(query) or 0)


def active_workers(session: Session, project: Project, *, minutes: int = 30) -> list[Worker]:
    """People with a live lease or a submission in the last ``minutes``, busiest first."""
    since = utcnow() - timedelta(minutes=minutes)
    rows = session.execute(
        select(
            User.username,
            func.count().filter(Assignment.state == "submitted"),
            func.count().filter(Assignment.state == "leased", Assignment.expires_at > utcnow()),
            func.max(func.coalesce(Assignment.finished_at, Assignment.leased_at)),
        )
        .join(User, User.id == Assignment.user_id)
        .where(
            Assignment.project_id == project.id,
            func.coalesce(Assignment.finished_at, Assignment.leased_at) >= since,
        )
        .group_by(User.username)
        .order_by(func.count().desc(), User.username)
    )
    return [Worker(name, int(s), int(n), seen) for name, s, n, seen in rows]
