"""Actions on duplicate groups: the redundant members (all but the representative, the
smallest id) leave the queue (exclude), are excluded and recorded as merged into their
representative (merge), come back (include) or are deleted (drop). Every action is audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from accord.core import audit
from accord.core.assignment import reclaim_expired
from accord.core.distribution import stratum_of
from accord.db.models import Annotation, Item, ItemDuplicate, Project, utcnow
from accord.errors import InvalidInput

_CHUNK = 500


@dataclass(frozen=True)
class ActionResult:
    action: str
    changed: list[int]
    skipped: dict[int, str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "changed": self.changed,
            "skipped": [{"item_id": i, "reason": r} for i, r in sorted(self.skipped.items())],
        }


def _targets(
    session: Session, project: Project, group_ids: Sequence[int] | None
) -> list[tuple[int, int]]:
    """(item id, group id) of the non-representative members of the groups (None: all)."""
    query = select(ItemDuplicate.item_id, ItemDuplicate.group_id).where(
        ItemDuplicate.project_id == project.id, ItemDuplicate.item_id != ItemDuplicate.group_id
    )
    if group_ids is not None:
        wanted = sorted(set(group_ids))
        if not wanted:
            raise InvalidInput(
                "name the groups (group_ids) or ask for all groups (all: true)",
                [{"field": "group_ids", "rule": "required"}],
            )
        known = set(
            session.scalars(
                select(ItemDuplicate.group_id)
                .where(
                    ItemDuplicate.project_id == project.id,
                    ItemDuplicate.group_id.in_(wanted),
                )
                .distinct()
            )
        )
        unknown = [g for g in wanted if g not in known]
        if unknown:
            raise InvalidInput(
                f"no duplicate group {', '.join(map(str, unknown))} in project {project.id}",
                [{"field": "group_ids", "rule": "unknown", "group_ids": unknown}],
            )
        query = query.where(ItemDuplicate.group_id.in_(wanted))
    return [(int(i), int(g)) for i, g in session.execute(query.order_by(ItemDuplicate.item_id))]


def _states(session: Session, ids: Sequence[int]) -> dict[int, tuple[str, int, int]]:
    out: dict[int, tuple[str, int, int]] = {}
    for first in range(0, len(ids), _CHUNK):
        part = ids[first : first + _CHUNK]
        for i, status, n_done, n_assigned in session.execute(
            select(Item.id, Item.status, Item.n_done, Item.n_assigned).where(Item.id.in_(part))
        ):
            out[int(i)] = (status, int(n_done), int(n_assigned))
    return out


def _why_not(state: tuple[str, int, int]) -> str | None:
    status, n_done, n_assigned = state
    if status != "open":
        return f"status is {status}"
    if n_done:
        return "has answers"
    if n_assigned:
        return "an annotator holds it"
    return None


def _exclude_ids(session: Session, ids: Sequence[int]) -> list[int]:
    """Open items nobody holds or answered become excluded, in one statement per chunk (the
    conditions are checked again by the database, so a concurrent lease wins)."""
    changed: list[int] = []
    for first in range(0, len(ids), _CHUNK):
        part = list(ids[first : first + _CHUNK])
        changed += session.scalars(
            update(Item)
            .where(
                Item.id.in_(part),
                Item.status == "open",
                Item.n_done == 0,
                Item.n_assigned == 0,
            )
            .values(status="excluded")
            .returning(Item.id)
            .execution_options(synchronize_session=False)
        ).all()
    return sorted(changed)


def _record(
    session: Session,
    project: Project,
    actor_id: int,
    result: ActionResult,
    group_ids: Sequence[int] | None,
) -> None:
    audit.record(
        session,
        actor_id=actor_id,
        action=f"duplicates.{result.action}",
        entity="project",
        entity_id=project.id,
        project_id=project.id,
        groups=sorted(set(group_ids)) if group_ids is not None else "all",
        n_changed=len(result.changed),
        items=result.changed[:10_000],
        n_skipped=len(result.skipped),
    )


def exclude(
    session: Session, project: Project, group_ids: Sequence[int] | None, *, actor_id: int
) -> ActionResult:
    """The redundant members of the groups (None: all groups) leave the queue: open items
    nobody answered or holds get the status ``excluded``; the others are listed with why."""
    reclaim_expired(session, project, utcnow())
    targets = [i for i, _ in _targets(session, project, group_ids)]
    changed = _exclude_ids(session, targets)
    result = ActionResult("exclude", changed, _skipped(session, targets, changed))
    _record(session, project, actor_id, result, group_ids)
    return result


def _skipped(session: Session, targets: Sequence[int], changed: Sequence[int]) -> dict[int, str]:
    done = set(changed)
    rest = [i for i in targets if i not in done]
    return {i: _why_not(s) or "changed meanwhile" for i, s in _states(session, rest).items()}


def merge(
    session: Session, project: Project, group_ids: Sequence[int] | None, *, actor_id: int
) -> ActionResult:
    """Keep each group's representative: the other members are excluded as ``exclude`` does and
    their metadata records ``duplicate_of`` (the representative's id); already excluded members
    are recorded too."""
    reclaim_expired(session, project, utcnow())
    targets = _targets(session, project, group_ids)
    ids = [i for i, _ in targets]
    already = {i for i, s in _states(session, ids).items() if s[0] == "excluded"}
    changed = sorted(set(_exclude_ids(session, ids)) | already)
    group_of = dict(targets)
    for first in range(0, len(changed), _CHUNK):
        for item in session.scalars(
            select(Item).where(Item.id.in_(changed[first : first + _CHUNK]))
        ):
            item.meta = {**(item.meta or {}), "duplicate_of": group_of[item.id]}
            item.stratum = stratum_of(item.meta, project.stratify_by)
    result = ActionResult("merge", changed, _skipped(session, ids, changed))
    _record(session, project, actor_id, result, group_ids)
    return result


def include(
    session: Session, project: Project, group_ids: Sequence[int] | None, *, actor_id: int
) -> ActionResult:
    """Undo exclude and merge: excluded members of the groups (None: every excluded item of the
    project) are open again, without ``duplicate_of``."""
    if group_ids is None:
        ids = list(
            session.scalars(
                select(Item.id).where(Item.project_id == project.id, Item.status == "excluded")
            )
        )
    else:
        ids = [i for i, _ in _targets(session, project, group_ids)]
    changed: list[int] = []
    for first in range(0, len(ids), _CHUNK):
        for item in session.scalars(
            select(Item).where(Item.id.in_(ids[first : first + _CHUNK]), Item.status == "excluded")
        ):
            item.status = "open"
            if "duplicate_of" in (item.meta or {}):
                item.meta = {k: v for k, v in item.meta.items() if k != "duplicate_of"}
                item.stratum = stratum_of(item.meta, project.stratify_by)
            changed.append(item.id)
    changed.sort()
    reopened = set(changed)
    skipped = {i: "not excluded" for i in ids if i not in reopened}
    result = ActionResult("include", changed, skipped)
    _record(session, project, actor_id, result, group_ids)
    return result


def drop(
    session: Session,
    project: Project,
    group_ids: Sequence[int] | None,
    *,
    actor_id: int,
    skip_annotated: bool = False,
) -> ActionResult:
    """Delete the redundant members of the groups that have no annotations (skips included).
    Items with annotations refuse the whole request (422 listing them) unless
    ``skip_annotated``; gold items and items an annotator holds are never deleted."""
    reclaim_expired(session, project, utcnow())
    ids = [i for i, _ in _targets(session, project, group_ids)]
    annotated: set[int] = set()
    for first in range(0, len(ids), _CHUNK):
        annotated.update(
            session.scalars(
                select(Annotation.item_id)
                .where(Annotation.item_id.in_(ids[first : first + _CHUNK]))
                .distinct()
            )
        )
    if annotated and not skip_annotated:
        listed = sorted(annotated)
        raise InvalidInput(
            f"{len(listed)} item(s) have annotations and are not dropped: "
            f"{', '.join(map(str, listed[:50]))}{' …' if len(listed) > 50 else ''}; "
            "exclude them instead, or drop with skip_annotated",
            [{"field": "items", "rule": "has_annotations", "item_ids": listed}],
        )
    skipped: dict[int, str] = {i: "has annotations" for i in annotated}
    states = _states(session, [i for i in ids if i not in annotated])
    doomed: list[int] = []
    for i, (status, _, n_assigned) in states.items():
        if status == "gold":
            skipped[i] = "gold item"
        elif n_assigned:
            skipped[i] = "an annotator holds it"
        else:
            doomed.append(i)
    doomed.sort()
    for first in range(0, len(doomed), _CHUNK):
        part = doomed[first : first + _CHUNK]
        session.execute(delete(ItemDuplicate).where(ItemDuplicate.item_id.in_(part)))
        session.execute(delete(Item).where(Item.id.in_(part), Item.n_assigned == 0))
    # A representative left alone is no longer a group.
    alone = (
        select(ItemDuplicate.group_id)
        .where(ItemDuplicate.project_id == project.id)
        .group_by(ItemDuplicate.group_id)
        .having(func.count() == 1)
    )
    session.execute(
        delete(ItemDuplicate).where(
            ItemDuplicate.project_id == project.id, ItemDuplicate.group_id.in_(alone)
        )
    )
    result = ActionResult("drop", doomed, skipped)
    _record(session, project, actor_id, result, group_ids)
    return result
