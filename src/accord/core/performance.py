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

How it is computed: one query reads five numbers per answer (id, annotator, item of a first
version, lead time, time) in id order through the transaction's own driver cursor
(``accord.db.columns``), without row objects or type processing; numpy and pandas order them by
annotator, time and id and compute every figure and the trend, with the sums and medians a
per-annotator pandas frame gives. A second query reads the project's verdicts alone; each is
credited to the author of its answer among the answers read (a verdict is only ever given on a
current, non-skipped answer), any other answer is looked up. Grouping the answers in SQL instead
was measured slower on SQLite, which sorts to group and to evaluate window functions: 5 to 9 s
for each such query over 1.5 million answers, against under 6 s for the whole leaderboard
(benchmarks/leaderboard.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    SQLColumnExpression,
    String,
    case,
    cast,
    extract,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from accord.core import gold
from accord.db.columns import driver_columns
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
_TIMES = "datetime64[us]"


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


@dataclass(frozen=True)
class _Answers:
    """A project's non-skipped answers that have an author, read in id order."""

    id: NDArray[np.int64]
    user: NDArray[np.int64]
    item: NDArray[np.int64]
    """The item of a first version; 0 for a revision."""
    lead: NDArray[np.float64]
    """NaN where no lead time was recorded."""
    at: NDArray[np.datetime64]
    """UTC, microseconds."""


@dataclass(frozen=True)
class _Work:
    """One annotator's figures from their answers."""

    items_done: int
    answers: int
    active_seconds: float
    median_lead_time: float | None
    per_day: list[int]


@dataclass(frozen=True)
class _Judged:
    """The verdicts on one annotator's answers."""

    reviewed: int
    rejected: int
    per_day: list[int]
    rejected_per_day: list[int]


def _instant(session: Session, column: SQLColumnExpression[datetime]) -> ColumnElement[Any]:
    """A timestamp column in the form numpy reads fastest as UTC ``datetime64[us]``: SQLite's
    stored text; on PostgreSQL microseconds since the epoch (converting datetime objects would
    take longer than reading them)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(extract("epoch", column) * 1_000_000, BigInteger)
    return type_coerce(column, String)


def _answers(session: Session, project: Project, user_id: int | None) -> _Answers:
    query = select(
        Annotation.id,
        Annotation.user_id,
        case((Annotation.version == 1, Annotation.item_id), else_=0),
        Annotation.lead_time,
        _instant(session, Annotation.created_at),
    ).where(
        Annotation.project_id == project.id,
        Annotation.skipped.is_(False),
        Annotation.user_id.is_not(None),
    )
    if user_id is not None:
        query = query.where(Annotation.user_id == user_id)
    # In id order the (project, id) index reads each page of the table once; in annotator
    # order the rows of each annotator are spread over all of them.
    ids, user, item, lead, at = driver_columns(
        session,
        query.order_by(Annotation.id),
        (np.int64, np.int64, np.int64, np.float64, _TIMES),
    )
    return _Answers(id=ids, user=user, item=item, lead=lead, at=at)


def _segments(keys: NDArray[np.int64]) -> list[tuple[int, int, int]]:
    """(key, start, end) of each run of equal keys in a sorted array."""
    if len(keys) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    return list(zip(keys[starts].tolist(), starts.tolist(), ends.tolist(), strict=True))


def _days(at: NDArray[np.datetime64], days: list[date]) -> NDArray[np.int64]:
    """The index of each time's UTC day in ``days`` (consecutive), -1 outside them."""
    first = np.datetime64(days[0], "us")
    index = (at - first) // np.timedelta64(1, "D")
    return np.where((at >= first) & (index < len(days)), index, -1)


def _count_days(index: NDArray[np.int64], n: int) -> list[int]:
    return [int(k) for k in np.bincount(index[index >= 0], minlength=n)]


def _work(answers: _Answers, days: list[date]) -> dict[int, _Work]:
    """Per annotator, the figures of their answers (see the module's rules)."""
    # by annotator, then time, then id (the rows are in id order and the sorts are stable)
    by_time = np.argsort(answers.at, kind="stable")
    order = by_time[np.argsort(answers.user[by_time], kind="stable")]
    user, item, lead, at = (
        answers.user[order],
        answers.item[order],
        answers.lead[order],
        answers.at[order],
    )
    # Active time: the lead time, else the gap since the previous answer (capped). The gaps are
    # pandas' seconds and each annotator's sum numpy's, as in a per-annotator pandas frame.
    gaps = pd.Series(at).diff().dt.total_seconds().clip(upper=GAP_CAP_SECONDS).to_numpy(copy=True)
    segments = _segments(user)
    gaps[[s for _, s, _ in segments]] = 0.0  # an annotator's first answer has no previous one
    has_lead = ~np.isnan(lead)
    seconds = np.where(has_lead, lead, gaps)
    day = _days(at, days)
    out = {}
    for uid, s, e in segments:
        leads = lead[s:e][has_lead[s:e]]
        items = item[s:e]
        out[uid] = _Work(
            items_done=int(np.unique(items[items > 0]).size),
            answers=e - s,
            active_seconds=float(seconds[s:e].sum()),
            median_lead_time=float(np.median(leads)) if len(leads) else None,
            per_day=_count_days(day[s:e], len(days)),
        )
    return out


def _authors(
    session: Session, answers: _Answers, annotation: NDArray[np.int64]
) -> NDArray[np.int64]:
    """The author of each annotation: from the answers read, else looked up; -1 for none."""
    place = np.searchsorted(answers.id, annotation)
    known = place < len(answers.id)
    known[known] = answers.id[place[known]] == annotation[known]
    author = np.full(len(annotation), -1, dtype=np.int64)
    author[known] = answers.user[place[known]]
    others = np.unique(annotation[~known]).tolist()
    if others:
        found: dict[int, int] = {}
        for k in range(0, len(others), 5000):
            query = select(Annotation.id, Annotation.user_id).where(
                Annotation.id.in_(others[k : k + 5000]), Annotation.user_id.is_not(None)
            )
            found.update((a, u) for a, u in session.execute(query) if u is not None)
        author[~known] = [found.get(a, -1) for a in annotation[~known].tolist()]
    return author


def _verdicts(
    session: Session, project: Project, answers: _Answers, user_id: int | None, days: list[date]
) -> dict[int, _Judged]:
    """Per author: their answers with a verdict, those rejected at least once, and per trend
    day the verdicts given and the rejections. Verdicts are read alone and given to the
    authors of the answers already read (a verdict is only ever given on a current,
    non-skipped answer); any other annotation is looked up."""
    query = select(
        Review.annotation_id,
        Review.verdict == "rejected",
        _instant(session, Review.created_at),
    ).where(Review.project_id == project.id)
    if user_id is not None:
        theirs = select(Annotation.id).where(
            Annotation.project_id == project.id, Annotation.user_id == user_id
        )
        query = query.where(Review.annotation_id.in_(theirs))
    annotation, rejected, at = driver_columns(session, query, (np.int64, np.bool_, _TIMES))
    author = _authors(session, answers, annotation)
    keep = author >= 0
    order = np.argsort(author[keep], kind="stable")
    author, annotation, rejected = (
        author[keep][order],
        annotation[keep][order],
        rejected[keep][order],
    )
    day = _days(at[keep][order], days)
    out = {}
    for uid, s, e in _segments(author):
        rej = rejected[s:e]
        out[uid] = _Judged(
            reviewed=int(np.unique(annotation[s:e]).size),
            rejected=int(np.unique(annotation[s:e][rej]).size),
            per_day=_count_days(day[s:e], len(days)),
            rejected_per_day=_count_days(day[s:e][rej], len(days)),
        )
    return out


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
    today = (now or utcnow()).date()
    days = [today - timedelta(days=k) for k in range(TREND_DAYS - 1, -1, -1)]
    answers = _answers(session, project, user_id)
    work = _work(answers, days)
    verdicts = _verdicts(session, project, answers, user_id, days)
    agreement = _agreement(session, project)
    accuracy = {g.user_id: g for g in gold.gold_accuracy(session, project, user_id=user_id)}
    ids = set(work) | set(verdicts)
    if user_id is not None:
        ids.add(user_id)
    people = _people(session, project, ids, user_id)
    nothing = [0] * len(days)
    idle = _Work(0, 0, 0.0, None, nothing)
    unjudged = _Judged(0, 0, nothing, nothing)
    out = []
    for uid, (username, role) in people.items():
        mine = work.get(uid, idle)
        judged = verdicts.get(uid, unjudged)
        seconds = mine.active_seconds
        g = accuracy.get(uid)
        trend = []
        for k, d in enumerate(days):
            n_rev, n_rej = judged.per_day[k], judged.rejected_per_day[k]
            trend.append(Day(d, mine.per_day[k], n_rev, n_rej, n_rej / n_rev if n_rev else None))
        out.append(
            Performance(
                user_id=uid,
                username=username,
                role=role,
                items_done=mine.items_done,
                answers=mine.answers,
                active_seconds=seconds,
                throughput_per_hour=mine.answers * 3600.0 / seconds if seconds > 0 else None,
                median_lead_time=mine.median_lead_time,
                gold_answers=g.n_answers if g else 0,
                gold_accuracy=g.accuracy if g else None,
                agreement=agreement.get(uid),
                reviewed=judged.reviewed,
                rejected=judged.rejected,
                rejection_rate=judged.rejected / judged.reviewed if judged.reviewed else None,
                trend=trend,
            )
        )
    return sorted(out, key=lambda p: (-p.items_done, p.username))


def my_performance(session: Session, project: Project, user: User) -> Performance:
    (found,) = performance(session, project, user_id=user.id)
    return found
