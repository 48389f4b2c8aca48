"""Annotator performance on a project: how much, how fast, how well.

Per annotator:

- **items done**: items with a submitted (not skipped) answer of theirs, revisions not counted
  again;
- **answers**: their non-skipped annotations, submissions and revisions (a redo after a
  rejection is an answer too; skips are not);
- **active time**: per answer its recorded lead time; for an answer without one, the gap since
  the annotator's previous answer on the project, capped at ``GAP_CAP_SECONDS`` (a longer gap is
  a pause, not work); the first answer without a lead time counts nothing;
- **throughput**: answers per hour of active time;
- **median lead time** over the answers that recorded one;
- **gold accuracy**: the share of their gold answers scored correct (``gold_scores``);
- **agreement with consensus**: from the latest quality run of each control (the stored
  ``annotator_skills``), the mean over controls weighted by the number of labels;
- **rejection rate**: their reviewed answers that were rejected / their reviewed answers;
- **trend**: per UTC day over the last ``TREND_DAYS`` days, the answers given that day and the
  rejection rate of the verdicts given that day on their answers.

One read of the project's answers and verdicts, computed with pandas per annotator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.core import gold
from accord.db.models import (
    Annotation,
    AnnotatorSkill,
    Membership,
    Project,
    Review,
    User,
    utcnow,
)

GAP_CAP_SECONDS = 600.0
TREND_DAYS = 30


@dataclass(frozen=True)
class Day:
    day: date
    answers: int
    reviewed: int
    rejected: int
    rejection_rate: float | None


@dataclass(frozen=True)
class Performance:
    user_id: int
    username: str
    role: str | None
    items_done: int
    answers: int
    active_seconds: float
    throughput_per_hour: float | None
    median_lead_time: float | None
    gold_answers: int
    gold_accuracy: float | None
    agreement: float | None
    reviewed: int
    rejected: int
    rejection_rate: float | None
    trend: list[Day] = field(default_factory=list)


def active_seconds(created: pd.Series, lead: pd.Series) -> float:
    """Active time of one annotator's answers (``created``: times in order of submission,
    ``lead``: lead times, NaN where missing); see the module's rule."""
    gaps = created.diff().dt.total_seconds().clip(upper=GAP_CAP_SECONDS).fillna(0.0)
    return float(lead.where(lead.notna(), gaps).sum())


def _answers(session: Session, project: Project, user_id: int | None) -> pd.DataFrame:
    query = select(
        Annotation.id,
        Annotation.user_id,
        Annotation.item_id,
        Annotation.version,
        Annotation.lead_time,
        Annotation.created_at,
    ).where(
        Annotation.project_id == project.id,
        Annotation.skipped.is_(False),
        Annotation.user_id.is_not(None),
    )
    if user_id is not None:
        query = query.where(Annotation.user_id == user_id)
    rows = session.execute(
        query.order_by(Annotation.user_id, Annotation.created_at, Annotation.id)
    ).all()
    frame = pd.DataFrame(
        rows, columns=["id", "user_id", "item_id", "version", "lead_time", "created_at"]
    )
    frame["lead_time"] = pd.to_numeric(frame["lead_time"], errors="coerce").astype(float)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame


def _verdicts(session: Session, project: Project, user_id: int | None) -> pd.DataFrame:
    query = (
        select(Annotation.user_id, Review.annotation_id, Review.verdict, Review.created_at)
        .join(Annotation, Annotation.id == Review.annotation_id)
        .where(Review.project_id == project.id, Annotation.user_id.is_not(None))
    )
    if user_id is not None:
        query = query.where(Annotation.user_id == user_id)
    frame = pd.DataFrame(
        session.execute(query).all(), columns=["user_id", "annotation_id", "verdict", "at"]
    )
    frame["at"] = pd.to_datetime(frame["at"], utc=True)
    frame["rejected"] = frame["verdict"] == "rejected"
    return frame


def _agreement(session: Session, project: Project) -> dict[int, float]:
    rows = session.execute(
        select(AnnotatorSkill.user_id, AnnotatorSkill.agreement, AnnotatorSkill.n_labels).where(
            AnnotatorSkill.project_id == project.id
        )
    ).all()
    frame = pd.DataFrame(rows, columns=["user_id", "agreement", "n"]).dropna()
    frame = frame[frame["n"] > 0]
    if frame.empty:
        return {}
    weighted = (frame["agreement"] * frame["n"]).groupby(frame["user_id"]).sum()
    share = weighted / frame.groupby("user_id")["n"].sum()
    return {int(str(uid)): float(value) for uid, value in share.items()}


def _trend(answers: pd.DataFrame, verdicts: pd.DataFrame, days: list[date]) -> dict[int, list[Day]]:
    first = pd.Timestamp(days[0], tz="UTC")
    recent = answers[answers["created_at"] >= first]
    per_day = recent.groupby(["user_id", recent["created_at"].dt.date]).size()
    judged = verdicts[verdicts["at"] >= first]
    day_of = judged["at"].dt.date
    reviewed = judged.groupby(["user_id", day_of]).size()
    rejected = judged[judged["rejected"]].groupby(["user_id", day_of[judged["rejected"]]]).size()
    users = set(answers["user_id"]) | set(verdicts["user_id"])
    out: dict[int, list[Day]] = {}
    for uid in users:
        rows = []
        for d in days:
            n_rev = int(reviewed.get((uid, d), 0))
            n_rej = int(rejected.get((uid, d), 0))
            rows.append(
                Day(
                    d, int(per_day.get((uid, d), 0)), n_rev, n_rej, n_rej / n_rev if n_rev else None
                )
            )
        out[int(uid)] = rows
    return out


def _people(
    session: Session, project: Project, ids: set[int], user_id: int | None
) -> dict[int, tuple[str, str | None]]:
    """Usernames and roles of the annotators of the project and of everyone with answers."""
    members = select(Membership.user_id).where(
        Membership.project_id == project.id, Membership.role == "annotator"
    )
    query = (
        select(User.id, User.username, Membership.role)
        .outerjoin(
            Membership, (Membership.user_id == User.id) & (Membership.project_id == project.id)
        )
        .where(User.id.in_(ids) | User.id.in_(members))
    )
    if user_id is not None:
        query = query.where(User.id == user_id)
    return {uid: (name, role) for uid, name, role in session.execute(query)}


def performance(
    session: Session, project: Project, *, user_id: int | None = None, now: datetime | None = None
) -> list[Performance]:
    """Every annotator of the project (and anyone else with answers), most items done first;
    with ``user_id`` that person only."""
    answers = _answers(session, project, user_id)
    verdicts = _verdicts(session, project, user_id)
    today = (now or utcnow()).date()
    days = [today - timedelta(days=k) for k in range(TREND_DAYS - 1, -1, -1)]
    trend = _trend(answers, verdicts, days)
    agreement = _agreement(session, project)
    accuracy = {g.user_id: g for g in gold.gold_accuracy(session, project, user_id=user_id)}
    ids = {int(u) for u in answers["user_id"]} | {int(u) for u in verdicts["user_id"]}
    if user_id is not None:
        ids.add(user_id)
    people = _people(session, project, ids, user_id)
    by_user = dict(tuple(answers.groupby("user_id"))) if len(answers) else {}
    judged = verdicts.groupby("annotation_id").agg(
        user_id=("user_id", "first"), rejected=("rejected", "any")
    )
    reviewed = judged.groupby("user_id").size()
    rejected = judged.groupby("user_id")["rejected"].sum()
    empty_trend = [Day(d, 0, 0, 0, None) for d in days]
    out = []
    for uid, (username, role) in people.items():
        mine = by_user.get(uid)
        n_answers = 0 if mine is None else len(mine)
        seconds = 0.0 if mine is None else active_seconds(mine["created_at"], mine["lead_time"])
        leads = None if mine is None else mine["lead_time"].dropna()
        n_rev = int(reviewed.get(uid, 0))
        n_rej = int(rejected.get(uid, 0))
        g = accuracy.get(uid)
        out.append(
            Performance(
                user_id=uid,
                username=username,
                role=role,
                items_done=0
                if mine is None
                else int(mine.loc[mine["version"] == 1, "item_id"].nunique()),
                answers=n_answers,
                active_seconds=seconds,
                throughput_per_hour=n_answers * 3600.0 / seconds if seconds > 0 else None,
                median_lead_time=float(np.median(leads))
                if leads is not None and len(leads)
                else None,
                gold_answers=g.n_answers if g else 0,
                gold_accuracy=g.accuracy if g else None,
                agreement=agreement.get(uid),
                reviewed=n_rev,
                rejected=n_rej,
                rejection_rate=n_rej / n_rev if n_rev else None,
                trend=trend.get(uid, empty_trend),
            )
        )
    return sorted(out, key=lambda p: (-p.items_done, p.username))


def my_performance(session: Session, project: Project, user: User) -> Performance:
    (found,) = performance(session, project, user_id=user.id)
    return found
