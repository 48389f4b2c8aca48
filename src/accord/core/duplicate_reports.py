"""What a project's stored duplicate groups look like: the redundancy summary, groups page by
page with their members, the group of one item, and the project's duplicates checks (the jobs
of :mod:`accord.core.duplicates`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.db.models import Item, ItemDuplicate, Job, Project
from accord.errors import InvalidInput
from accord.io import search_text

MAX_MEMBERS = 50
"""Members listed per group in reports (the size is always the whole group's)."""
PREVIEW = 160


def preview(data: Mapping[str, Any], limit: int = PREVIEW) -> str:
    text = search_text(data)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Member:
    item_id: int
    status: str
    method: str
    similarity: float
    preview: str
    has_media: bool
    representative: bool
    duplicate_of: int | None


@dataclass(frozen=True)
class Group:
    group_id: int
    size: int
    members: list[Member]
    methods: dict[str, int]


@dataclass(frozen=True)
class Summary:
    n_items: int
    n_groups: int
    n_redundant: int
    redundancy_rate: float
    histogram: dict[int, int]
    largest: list[Group]
    n_excluded: int
    computed_at: str | None
    last_job: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["histogram"] = {str(k): v for k, v in self.histogram.items()}
        return out


def summary(session: Session, project: Project, *, top: int = 10) -> Summary:
    """Redundancy rate (items that are not their group's representative / all items), the
    number of groups, how many groups have each size, and the ``top`` largest groups."""
    n_items = int(session.scalar(select(func.count()).where(Item.project_id == project.id)) or 0)
    sizes = list(
        session.execute(
            select(ItemDuplicate.group_id, func.count())
            .where(ItemDuplicate.project_id == project.id)
            .group_by(ItemDuplicate.group_id)
        )
    )
    n_redundant = sum(int(n) - 1 for _, n in sizes)
    histogram = dict(sorted(Counter(int(n) for _, n in sizes).items()))
    computed_at = session.scalar(
        select(func.max(ItemDuplicate.computed_at)).where(ItemDuplicate.project_id == project.id)
    )
    n_excluded = int(
        session.scalar(
            select(func.count()).where(Item.project_id == project.id, Item.status == "excluded")
        )
        or 0
    )
    job = last_job(session, project)
    return Summary(
        n_items=n_items,
        n_groups=len(sizes),
        n_redundant=n_redundant,
        redundancy_rate=n_redundant / n_items if n_items else 0.0,
        histogram=histogram,
        largest=groups(session, project, offset=0, limit=top) if top else [],
        n_excluded=n_excluded,
        computed_at=computed_at.isoformat() if computed_at else None,
        last_job=(
            {
                "id": job.id,
                "status": job.status,
                "params": job.params,
                "finished_at": job.finished_at.isoformat() if job.finished_at else None,
                "error": job.error,
            }
            if job is not None
            else None
        ),
    )


def count_groups(session: Session, project: Project) -> int:
    return int(
        session.scalar(
            select(func.count(func.distinct(ItemDuplicate.group_id))).where(
                ItemDuplicate.project_id == project.id
            )
        )
        or 0
    )


def groups(session: Session, project: Project, *, offset: int = 0, limit: int = 20) -> list[Group]:
    """Groups by size (largest first, then by representative), with up to ``MAX_MEMBERS``
    members each: the representative first, then by id."""
    if offset < 0 or not 1 <= limit <= 1000:
        raise InvalidInput(
            "offset must be 0 or more and limit 1 to 1,000",
            [{"field": "limit" if offset >= 0 else "offset", "rule": "range"}],
        )
    size = func.count().label("size")
    page = list(
        session.execute(
            select(ItemDuplicate.group_id, size)
            .where(ItemDuplicate.project_id == project.id)
            .group_by(ItemDuplicate.group_id)
            .order_by(size.desc(), ItemDuplicate.group_id)
            .offset(offset)
            .limit(limit)
        )
    )
    return _groups_of(session, project, [(int(g), int(n)) for g, n in page])


def _groups_of(
    session: Session, project: Project, wanted: Sequence[tuple[int, int]]
) -> list[Group]:
    if not wanted:
        return []
    members: dict[int, list[Member]] = {g: [] for g, _ in wanted}
    methods: dict[int, Counter[str]] = {g: Counter() for g, _ in wanted}
    rows = session.execute(
        select(ItemDuplicate, Item)
        .join(Item, Item.id == ItemDuplicate.item_id)
        .where(
            ItemDuplicate.project_id == project.id,
            ItemDuplicate.group_id.in_([g for g, _ in wanted]),
        )
        .order_by(ItemDuplicate.group_id, ItemDuplicate.item_id)
    )
    for dup, item in rows:
        methods[dup.group_id][dup.method] += 1
        if len(members[dup.group_id]) < MAX_MEMBERS:
            members[dup.group_id].append(_member(dup, item))
    return [Group(g, n, members[g], dict(methods[g])) for g, n in wanted]


def _member(dup: ItemDuplicate, item: Item) -> Member:
    of = (item.meta or {}).get("duplicate_of")
    return Member(
        item_id=item.id,
        status=item.status,
        method=dup.method,
        similarity=round(float(dup.similarity), 6),
        preview=preview(item.data),
        has_media=item.media is not None,
        representative=dup.item_id == dup.group_id,
        duplicate_of=int(of) if isinstance(of, int) else None,
    )


def item_group(session: Session, project: Project, item_id: int) -> Group | None:
    """The duplicate group an item belongs to, if any."""
    group_id = session.scalar(
        select(ItemDuplicate.group_id).where(
            ItemDuplicate.item_id == item_id, ItemDuplicate.project_id == project.id
        )
    )
    if group_id is None:
        return None
    size = session.scalar(
        select(func.count()).where(
            ItemDuplicate.project_id == project.id, ItemDuplicate.group_id == group_id
        )
    )
    return _groups_of(session, project, [(int(group_id), int(size or 0))])[0]


def last_job(session: Session, project: Project) -> Job | None:
    return session.scalars(
        select(Job)
        .where(Job.project_id == project.id, Job.kind == "duplicates")
        .order_by(Job.id.desc())
        .limit(1)
    ).first()


def queued_import_check(session: Session, project_id: int) -> int | None:
    """The id of a check with the default settings queued after an import of the project that
    has not started yet (it will read every item committed before it starts), if any."""
    waiting = session.scalars(
        select(Job)
        .where(Job.project_id == project_id, Job.kind == "duplicates", Job.status == "queued")
        .order_by(Job.id.desc())
    )
    for job in waiting:
        if (job.params or {}).get("trigger") == "import":
            return job.id
    return None


def active_job(session: Session, project: Project) -> Job | None:
    """The project's newest duplicates check that is waiting or running, if any."""
    job = last_job(session, project)
    return job if job is not None and job.status in ("queued", "running") else None
