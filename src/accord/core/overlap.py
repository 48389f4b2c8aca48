"""How many answers an item needs: fixed overlap N, or adaptive overlap.

With fixed overlap every item needs ``project.overlap`` answers. With adaptive overlap an item
first needs ``adaptive_start`` (k) answers; each time it reaches the number it needs, the labels
of the project's first single-choice control are put to :class:`accord.quality.AdaptiveOverlap`
(the leading label's share of the votes must reach ``adaptive_threshold``): when they settle it,
the item is done; otherwise it needs one more answer, up to N. ``Item.target`` holds the number
an item needs when it differs from the start (NULL otherwise), so the queue's slot check stays a
single comparison in SQL and imports need not write it.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from accord.core.quality import categorical_controls
from accord.db.models import AnnotationLabel, Item, Project
from accord.errors import InvalidInput
from accord.quality import AdaptiveOverlap


def start(project: Project) -> int:
    """The number of answers every item needs at first."""
    if project.adaptive_overlap:
        return min(project.adaptive_start, project.overlap)
    return project.overlap


def needed(project: Project) -> ColumnElement[int]:
    """SQL: the number of answers this item needs now."""
    return func.coalesce(Item.target, start(project))


def policy(project: Project) -> AdaptiveOverlap:
    return AdaptiveOverlap(
        max_labels=project.overlap,
        min_labels=start(project),
        threshold=project.adaptive_threshold,
    )


def check_settings(session: Session, project: Project) -> None:
    if project.adaptive_overlap and not categorical_controls(session, project):
        message = "adaptive overlap needs a single-choice control to judge agreement on"
        raise InvalidInput(
            message, [{"field": "adaptive_overlap", "rule": "needs_single_choice", "msg": message}]
        )


def after_submission(session: Session, project: Project, item_id: int) -> None:
    """The item just received an answer: mark it done, or (adaptive) ask for one more."""
    row = session.execute(
        select(Item.status, Item.n_done, Item.target).where(Item.id == item_id)
    ).one()
    if row.status != "open" or row.n_done < (row.target or start(project)):
        return
    settle(session, project, {item_id: row.n_done})


def settle(session: Session, project: Project, done: dict[int, int]) -> None:
    """Items (id -> answers so far) that have the answers they need: each is done, or needs one
    more when adaptive overlap finds its labels unsettled."""
    more: list[int] = []
    if project.adaptive_overlap:
        labels = _labels(session, project, list(done))
        rule = policy(project)
        more = [i for i, n in done.items() if n < project.overlap and rule.needs_more(labels[i])]
    asked = set(more)
    finished = [i for i in done if i not in asked]
    for part in _chunks(more):
        session.execute(
            update(Item)
            .where(Item.id.in_(part))
            .values(target=Item.n_done + 1)
            .execution_options(synchronize_session=False)
        )
    for part in _chunks(finished):
        session.execute(
            update(Item)
            .where(Item.id.in_(part), Item.status == "open")
            .values(status="done")
            .execution_options(synchronize_session=False)
        )
    from accord.core.adjudication import check_items  # adjudication -> gold -> overlap

    check_items(session, project, finished)


def _chunks(ids: list[int], size: int = 5000) -> list[list[int]]:
    return [ids[k : k + size] for k in range(0, len(ids), size)]


def _labels(session: Session, project: Project, item_ids: list[int]) -> dict[int, list[str]]:
    controls = categorical_controls(session, project)
    found: dict[int, list[str]] = defaultdict(list)
    if not controls:
        return found
    for part in _chunks(item_ids):
        for item_id, label in session.execute(
            select(AnnotationLabel.item_id, AnnotationLabel.label).where(
                AnnotationLabel.item_id.in_(part), AnnotationLabel.control == controls[0]
            )
        ):
            found[item_id].append(label)
    return found


def restatus(session: Session, project: Project) -> None:
    """After a change of overlap or adaptive settings: items complete, reopen or ask for more
    according to the new rule."""
    session.execute(
        update(Item)
        .where(Item.project_id == project.id, Item.status.in_(("open", "done")))
        .values(target=None)
    )
    session.execute(
        update(Item)
        .where(Item.project_id == project.id, Item.status == "done", Item.n_done < start(project))
        .values(status="open")
    )
    if not project.adaptive_overlap:
        session.execute(
            update(Item)
            .where(
                Item.project_id == project.id,
                Item.status == "done",
                Item.n_done < project.overlap,
            )
            .values(status="open")
        )
    candidates = dict(
        session.execute(
            select(Item.id, Item.n_done).where(
                Item.project_id == project.id,
                Item.status.in_(("open", "done")),
                Item.n_done >= start(project),
            )
        ).all()
    )
    for part in _chunks(list(candidates)):
        session.execute(update(Item).where(Item.id.in_(part)).values(status="open"))
    settle(session, project, candidates)


def labels_saved(session: Session, project: Project) -> int:
    """Answers adaptive overlap did not ask for: N minus the answers of each done item."""
    if not project.adaptive_overlap:
        return 0
    found = session.scalar(
        select(func.coalesce(func.sum(project.overlap - Item.n_done), 0)).where(
            Item.project_id == project.id, Item.status == "done"
        )
    )
    return int(found or 0)
