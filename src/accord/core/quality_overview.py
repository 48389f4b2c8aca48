"""Read-only views of a project's stored quality, as the pages show it: per control the newest
run's figures with its annotators (weakest first) and its most suspicious items; per item its
consensus and suspicion. Nothing here computes or writes; quality_runs does that."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.core import gold, jobs, quality, quality_runs, suspects
from accord.db.models import (
    Consensus,
    Item,
    Job,
    Project,
    QualityRun,
    SuspectedError,
    User,
)


@dataclass(frozen=True)
class AnnotatorQuality:
    user_id: int
    username: str
    n_labels: int
    skill: float | None
    """The aggregation method's estimate of the annotator's share of correct answers."""
    agreement: float | None
    """Share of the annotator's labels equal to the stored consensus."""
    with_others: float | None
    """Mean share of the other annotators' labels on the same items that are equal..."""
    with_others_low: float | None = None
    with_others_high: float | None = None
    """...and its bootstrap interval, when the run's report has one."""


@dataclass(frozen=True)
class ControlQuality:
    run: QualityRun
    n_open: int
    annotators: list[AnnotatorQuality]
    top_suspects: list[SuspectedError]
    overall: list[dict[str, Any]] = field(default_factory=list)
    per_label: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ItemQuality:
    control: str
    consensus: Consensus | None
    suspect: SuspectedError | None


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def open_suspects_by_control(session: Session, project: Project) -> dict[str, int]:
    """Open suspected errors per control."""
    rows = session.execute(
        select(SuspectedError.control, func.count())
        .where(SuspectedError.project_id == project.id, SuspectedError.status == "open")
        .group_by(SuspectedError.control)
    )
    return {control: int(n) for control, n in rows}


def _weakest_first(row: AnnotatorQuality) -> tuple[bool, float, bool, float, str]:
    """Lowest skill first (unknown skills last), then lowest agreement, then by name."""
    return (
        row.skill is None,
        row.skill if row.skill is not None else 0.0,
        row.agreement is None,
        row.agreement if row.agreement is not None else 0.0,
        row.username,
    )


def run_annotators(session: Session, project: Project, run: QualityRun) -> list[AnnotatorQuality]:
    """The run's annotators, weakest first: the stored skills joined with the agreement with the
    other annotators from the run's report."""
    found = quality_runs.skills(session, project, run.control)
    stored = {s.user_id: (s, name) for s, name in found}
    report = {
        int(r["annotator"]): r
        for r in run.report.get("per_annotator", [])
        if r.get("annotator") is not None
    }
    missing = [user_id for user_id in report if user_id not in stored]
    names: dict[int, str] = {}
    if missing:
        query = select(User.id, User.username).where(User.id.in_(missing))
        names = {user_id: name for user_id, name in session.execute(query)}
    rows = []
    for user_id in stored.keys() | report.keys():
        skill, name = stored.get(user_id, (None, names.get(user_id, f"user {user_id}")))
        entry = report.get(user_id, {})
        n_labels = skill.n_labels if skill is not None else int(entry.get("n_labels") or 0)
        rows.append(
            AnnotatorQuality(
                user_id=user_id,
                username=name,
                n_labels=n_labels,
                skill=_number(skill.skill) if skill is not None else None,
                agreement=_number(skill.agreement) if skill is not None else None,
                with_others=_number(entry.get("with_others")),
                with_others_low=_number(entry.get("with_others_low")),
                with_others_high=_number(entry.get("with_others_high")),
            )
        )
    return sorted(rows, key=_weakest_first)


def control_overviews(session: Session, project: Project, *, top: int = 10) -> list[ControlQuality]:
    """One entry per single-choice control of the current schema that has a stored run."""
    current = set(quality.categorical_controls(session, project))
    open_counts = open_suspects_by_control(session, project)
    out = []
    for run in quality_runs.latest_runs(session, project):
        if run.control not in current:
            continue  # a control since removed from the schema
        out.append(
            ControlQuality(
                run=run,
                n_open=open_counts.get(run.control, 0),
                annotators=run_annotators(session, project, run),
                top_suspects=suspects.list_suspects(
                    session, project, status="open", control=run.control, limit=top
                ),
                overall=list(run.report.get("overall", [])),
                per_label=list(run.report.get("per_label", [])),
            )
        )
    return out


def active_quality_job(session: Session, project: Project) -> Job | None:
    """The project's newest quality job that is waiting or running, if any."""
    return jobs.active_job(session, project, "quality")


def item_quality(session: Session, project: Project, item: Item) -> list[ItemQuality]:
    """Per single-choice control: the item's stored consensus and its suspicion, if any."""
    consensus = {
        row.control: row
        for row in session.scalars(
            select(Consensus).where(
                Consensus.project_id == project.id, Consensus.item_id == item.id
            )
        )
    }
    suspected: dict[str, SuspectedError] = {}
    for row in suspects.suspects_of_item(session, item):
        suspected.setdefault(row.control, row)
    controls = quality.categorical_controls(session, project)
    controls += [c for c in sorted(consensus.keys() | suspected.keys()) if c not in controls]
    return [ItemQuality(c, consensus.get(c), suspected.get(c)) for c in controls]


@dataclass(frozen=True)
class GoldAnnotator:
    """One annotator's record on the gold items, with their pause, if any."""

    user_id: int
    username: str
    n_answers: int
    n_correct: int
    accuracy: float | None
    low: float | None
    high: float | None
    """The 95% Wilson interval of the accuracy."""
    paused_at: datetime | None = None
    pause_reason: str | None = None


@dataclass(frozen=True)
class GoldOverview:
    n_items: int
    annotators: list[GoldAnnotator]
    """Paused members first, then by name."""


def gold_overview(session: Session, project: Project) -> GoldOverview:
    """Accuracy on the gold items per annotator, joined with the project's pauses; a paused
    member without gold answers (paused otherwise) is listed too."""
    pauses = {m.user_id: m for m in gold.paused_members(session, project)}
    rows: list[GoldAnnotator] = []
    for r in gold.gold_accuracy(session, project):
        pause = pauses.pop(r.user_id, None)
        rows.append(
            GoldAnnotator(
                user_id=r.user_id,
                username=r.username,
                n_answers=r.n_answers,
                n_correct=r.n_correct,
                accuracy=r.accuracy,
                low=r.low,
                high=r.high,
                paused_at=pause.paused_at if pause else None,
                pause_reason=pause.pause_reason if pause else None,
            )
        )
    if pauses:
        names = session.execute(select(User.id, User.username).where(User.id.in_(list(pauses))))
        for user_id, username in names:
            pause = pauses[user_id]
            rows.append(
                GoldAnnotator(
                    user_id=user_id,
                    username=username,
                    n_answers=0,
                    n_correct=0,
                    accuracy=None,
                    low=None,
                    high=None,
                    paused_at=pause.paused_at,
                    pause_reason=pause.pause_reason,
                )
            )
    rows.sort(key=lambda row: (row.paused_at is None, row.username))
    n_items = session.scalar(
        select(func.count())
        .select_from(Item)
        .where(Item.project_id == project.id, Item.status == "gold")
    )
    return GoldOverview(n_items=int(n_items or 0), annotators=rows)
