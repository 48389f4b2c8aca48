"""Projects, their settings, members, and the versioned schema with its guidelines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accord.core import adjudication, audit, distribution
from accord.core import overlap as overlap_rules  # `overlap` is also a setting's name here
from accord.core.consensus_methods import METHODS as QUALITY_METHODS
from accord.core.personal_data import POLICIES as PII_POLICIES
from accord.core.policies import Role
from accord.core.schemas import current_schema as current_schema  # re-exported
from accord.core.strategies import STRATEGIES
from accord.db.models import Item, Job, Membership, Project, SchemaVersion, User
from accord.errors import Conflict, InvalidInput, NotFound
from accord.schema import LabelingSchema, parse_schema

SETTINGS = (
    "name",
    "description",
    "overlap",
    "lease_seconds",
    "strategy",
    "quality_method",
    "quality_refresh_every",
    "adaptive_overlap",
    "adaptive_start",
    "adaptive_threshold",
    "gold_rate",
    "gold_min_answers",
    "gold_pause_below",
    "stratify_by",
    "stratify_shares",
    "daily_quota",
    "practice_enabled",
    "qualification_items",
    "qualification_threshold",
    "review_policy",
    "review_sample_rate",
    "review_new_until",
    "adjudication_below",
    "pii_policy",
)
REVIEW_POLICIES = ("none", "sample", "all", "new_annotators")
QUEUE_SETTINGS = ("overlap", "adaptive_overlap", "adaptive_start", "adaptive_threshold")


RANGES = (
    ("daily_quota", 0, 1_000_000, "daily_quota must be 0 (no limit) to 1,000,000 answers"),
    ("qualification_items", 0, 1000, "qualification_items must be 0 (none) to 1,000"),
    ("qualification_threshold", 0.0, 1.0, "qualification_threshold must be 0 to 1"),
    ("review_sample_rate", 0.0, 1.0, "review_sample_rate must be 0 to 1"),
    ("review_new_until", 0, 100_000, "review_new_until must be 0 to 100,000 reviews"),
    ("adjudication_below", 0.0, 1.0, "adjudication_below must be 0 (never) to 1"),
    ("adaptive_start", 1, 100, "adaptive_start must be 1 to 100 answers"),
    ("adaptive_threshold", 0.5, 1.0, "adaptive_threshold must be 0.5 to 1"),
    ("gold_rate", 0.0, 0.5, "gold_rate must be 0 (no gold items served) to 0.5"),
    ("gold_min_answers", 1, 10_000, "gold_min_answers must be 1 to 10,000"),
    ("gold_pause_below", 0.0, 1.0, "gold_pause_below must be 0 (never pause) to 1"),
)


def get_project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    return project


def list_projects(session: Session, user: User) -> list[Project]:
    query = select(Project).where(Project.archived.is_(False)).order_by(Project.id)
    if not user.is_admin:
        query = query.join(Membership, Membership.project_id == Project.id).where(
            Membership.user_id == user.id
        )
    return list(session.scalars(query))


def _check_settings(values: Mapping[str, Any]) -> None:
    problems = []
    if "overlap" in values and not 1 <= int(values["overlap"]) <= 100:
        problems.append({"field": "overlap", "rule": "range", "msg": "overlap must be 1 to 100"})
    if "lease_seconds" in values and not 10 <= int(values["lease_seconds"]) <= 7 * 86400:
        problems.append(
            {"field": "lease_seconds", "rule": "range", "msg": "lease must be 10 s to 7 days"}
        )
    if "strategy" in values and values["strategy"] not in STRATEGIES:
        problems.append(
            {
                "field": "strategy",
                "rule": "choice",
                "msg": f"strategy must be one of {sorted(STRATEGIES)}",
            }
        )
    if "quality_method" in values and values["quality_method"] not in QUALITY_METHODS:
        problems.append(
            {
                "field": "quality_method",
                "rule": "choice",
                "msg": f"quality_method must be one of {sorted(QUALITY_METHODS)}",
            }
        )
    if "quality_refresh_every" in values and not 0 <= int(values["quality_refresh_every"]) <= 10**7:
        problems.append(
            {
                "field": "quality_refresh_every",
                "rule": "range",
                "msg": "quality_refresh_every must be 0 (never) to 10,000,000 annotations",
            }
        )
    if "review_policy" in values and values["review_policy"] not in REVIEW_POLICIES:
        problems.append(
            {
                "field": "review_policy",
                "rule": "choice",
                "msg": f"review_policy must be one of {', '.join(REVIEW_POLICIES)}",
            }
        )
    if "pii_policy" in values and values["pii_policy"] not in PII_POLICIES:
        problems.append(
            {
                "field": "pii_policy",
                "rule": "choice",
                "msg": f"pii_policy must be one of {', '.join(PII_POLICIES)}",
            }
        )
    for field, low, high, msg in RANGES:
        if field in values and not low <= float(values[field]) <= high:
            problems.append({"field": field, "rule": "range", "msg": msg})
    if "name" in values and not str(values["name"]).strip():
        problems.append({"field": "name", "rule": "required", "msg": "name must not be empty"})
    if problems:
        raise InvalidInput("; ".join(p["msg"] for p in problems), problems)


def create_project(
    session: Session,
    creator: User,
    name: str,
    schema: str | bytes | Mapping[str, Any],
    *,
    guidelines: str = "",
    description: str = "",
    overlap: int = 1,
    lease_seconds: int = 1800,
    strategy: str = "sequential",
    quality_method: str = "dawid_skene",
    quality_refresh_every: int = 500,
    adaptive_overlap: bool = False,
    adaptive_start: int = 3,
    adaptive_threshold: float = 0.8,
    gold_rate: float = 0.0,
    gold_min_answers: int = 10,
    gold_pause_below: float = 0.0,
    **more: Any,
) -> Project:
    """A project with its first schema version; ``more`` takes any other of ``SETTINGS``."""
    unknown = set(more) - set(SETTINGS)
    if unknown:
        raise InvalidInput(
            f"unknown project settings: {', '.join(sorted(unknown))}",
            [{"field": f, "rule": "unknown"} for f in sorted(unknown)],
        )
    if more.get("stratify_shares") == {}:
        more["stratify_shares"] = None
    distribution.check_share_values(more.get("stratify_shares"))
    settings = {
        "name": name,
        "overlap": overlap,
        "lease_seconds": lease_seconds,
        "strategy": strategy,
        "quality_method": quality_method,
        "quality_refresh_every": quality_refresh_every,
        "adaptive_start": adaptive_start,
        "adaptive_threshold": adaptive_threshold,
        "gold_rate": gold_rate,
        "gold_min_answers": gold_min_answers,
        "gold_pause_below": gold_pause_below,
        **more,
    }
    _check_settings(settings)
    if session.scalar(select(Project.id).where(Project.name == name)) is not None:
        raise Conflict(f"a project named {name!r} already exists")
    parsed = parse_schema(schema)
    project = Project(
        name=name,
        description=description,
        overlap=overlap,
        lease_seconds=lease_seconds,
        strategy=strategy,
        quality_method=quality_method,
        quality_refresh_every=quality_refresh_every,
        adaptive_overlap=adaptive_overlap,
        adaptive_start=adaptive_start,
        adaptive_threshold=adaptive_threshold,
        gold_rate=gold_rate,
        gold_min_answers=gold_min_answers,
        gold_pause_below=gold_pause_below,
        created_by=creator.id,
        **more,
    )
    session.add(project)
    session.flush()
    session.add(Membership(project_id=project.id, user_id=creator.id, role=Role.manager.name))
    audit.record(
        session,
        actor_id=creator.id,
        action="project.create",
        entity="project",
        entity_id=project.id,
        project_id=project.id,
    )
    _add_schema_version(session, project, parsed, guidelines, "initial version", creator.id)
    if adaptive_overlap:
        overlap_rules.check_settings(session, project)
    distribution.check_settings(project)
    distribution.check_shares(session, project)
    return project


def update_project(
    session: Session, project: Project, values: Mapping[str, Any], *, actor_id: int
) -> list[Job]:
    """Change settings; returns the background jobs the change queued in this transaction (a
    new ``adjudication_below`` judges the done items again), for the caller to hand to the job
    runner once the transaction is committed."""
    changes = {k: v for k, v in values.items() if k in SETTINGS and v is not None}
    if changes.get("stratify_by") == "":
        changes["stratify_by"] = None  # "" clears it
    if changes.get("stratify_shares") == {}:
        changes["stratify_shares"] = None  # {} clears them
    _check_settings(changes)
    distribution.check_share_values(changes.get("stratify_shares"))
    if "name" in changes and changes["name"] != project.name:
        taken = session.scalar(select(Project.id).where(Project.name == changes["name"]))
        if taken is not None:
            raise Conflict(f"a project named {changes['name']!r} already exists")
    before = {k: getattr(project, k) for k in changes}
    for key, value in changes.items():
        setattr(project, key, value)
    if "strategy" in changes or "stratify_by" in changes:
        distribution.check_settings(project)
        if "stratify_by" in changes:
            distribution.restratify(session, project)
    if "stratify_shares" in changes or "stratify_by" in changes:
        distribution.check_shares(session, project)  # against the groups the items now form
    queued: list[Job] = []
    if "adjudication_below" in changes:
        job = adjudication.threshold_changed(
            session, project, before["adjudication_below"], actor_id=actor_id
        )
        queued += [job] if job is not None else []
    if any(key in changes for key in QUEUE_SETTINGS):
        overlap_rules.check_settings(session, project)
        overlap_rules.restatus(session, project)
    audit.record(
        session,
        actor_id=actor_id,
        action="project.update",
        entity="project",
        entity_id=project.id,
        project_id=project.id,
        before=before,
        after=changes,
    )
    return queued


def publish_schema(
    session: Session,
    project: Project,
    *,
    schema: str | bytes | Mapping[str, Any] | None,
    guidelines: str | None,
    change_note: str,
    actor_id: int,
    requires_recalibration: bool = False,
    recalibration_items: int = 0,
) -> SchemaVersion:
    """A new version of schema and guidelines; annotations keep the version they were made under.
    With ``requires_recalibration`` annotators who passed (or worked under) an older version
    answer ``recalibration_items`` gold items before real items again (core/training.py)."""
    if requires_recalibration and not 1 <= recalibration_items <= 1000:
        raise InvalidInput(
            "recalibration_items must be 1 to 1,000 when the version requires recalibration",
            [{"field": "recalibration_items", "rule": "range"}],
        )
    current = current_schema(session, project)
    parsed = parse_schema(schema if schema is not None else current.schema)
    text = guidelines if guidelines is not None else current.guidelines
    if parsed.to_dict() == current.schema and text == current.guidelines:
        raise Conflict("nothing changed: the schema and guidelines equal the current version")
    version = _add_schema_version(session, project, parsed, text, change_note, actor_id)
    version.requires_recalibration = requires_recalibration
    version.recalibration_items = recalibration_items if requires_recalibration else 0
    return version


def _add_schema_version(
    session: Session,
    project: Project,
    parsed: LabelingSchema,
    guidelines: str,
    change_note: str,
    actor_id: int,
) -> SchemaVersion:
    last = session.scalar(
        select(func.max(SchemaVersion.version)).where(SchemaVersion.project_id == project.id)
    )
    version = SchemaVersion(
        project_id=project.id,
        version=(last or 0) + 1,
        schema=parsed.to_dict(),
        guidelines=guidelines,
        change_note=change_note,
        created_by=actor_id,
    )
    session.add(version)
    session.flush()
    project.schema_version_id = version.id
    audit.record(
        session,
        actor_id=actor_id,
        action="schema.publish",
        entity="schema_version",
        entity_id=version.id,
        project_id=project.id,
        version=version.version,
    )
    return version


def list_schema_versions(session: Session, project: Project) -> list[SchemaVersion]:
    return list(
        session.scalars(
            select(SchemaVersion)
            .where(SchemaVersion.project_id == project.id)
            .order_by(SchemaVersion.version)
        )
    )


def get_schema_version(session: Session, project: Project, version: int) -> SchemaVersion:
    row = session.scalar(
        select(SchemaVersion).where(
            SchemaVersion.project_id == project.id, SchemaVersion.version == version
        )
    )
    if row is None:
        raise NotFound(f"project {project.id} has no schema version {version}")
    return row


def set_member(
    session: Session, project: Project, user: User, role: str, *, actor_id: int
) -> Membership:
    try:
        Role.parse(role)
    except ValueError as exc:
        raise InvalidInput(str(exc), [{"field": "role", "rule": "choice"}]) from exc
    member = session.get(Membership, (project.id, user.id))
    before = member.role if member else None
    if member is None:
        member = Membership(project_id=project.id, user_id=user.id, role=role)
        session.add(member)
    member.role = role
    audit.record(
        session,
        actor_id=actor_id,
        action="member.set",
        entity="user",
        entity_id=user.id,
        project_id=project.id,
        before=before,
        after=role,
    )
    return member


def remove_member(session: Session, project: Project, user: User, *, actor_id: int) -> None:
    member = session.get(Membership, (project.id, user.id))
    if member is None:
        raise NotFound(f"user {user.username!r} is not a member of project {project.id}")
    session.delete(member)
    audit.record(
        session,
        actor_id=actor_id,
        action="member.remove",
        entity="user",
        entity_id=user.id,
        project_id=project.id,
        before=member.role,
    )


def list_members(session: Session, project: Project) -> list[tuple[User, str]]:
    rows = session.execute(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.project_id == project.id)
        .order_by(User.username)
    )
    return [(user, role) for user, role in rows]


def project_counts(session: Session, project: Project, *, with_gold: bool = True) -> dict[str, int]:
    """Items by status (``open``, ``done``, ``gold``) and in total; without gold for people who
    must not learn how many gold items there are."""
    rows = session.execute(
        select(Item.status, func.count()).where(Item.project_id == project.id).group_by(Item.status)
    )
    counts = {status: n for status, n in rows if with_gold or status != "gold"}
    counts["total"] = sum(counts.values())
    return counts
