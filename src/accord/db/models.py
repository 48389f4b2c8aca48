"""ORM models. Annotations are append-only: an edit is a new row pointing at its parent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware, on SQLite (which keeps no
    offset) as on PostgreSQL, so the API never sends a time without its zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def _where_set(name: str, column: str, *more: str) -> Index:
    """An index over the rows whose ``column`` is set: under a nullable foreign key that is
    mostly null, so that deleting a referenced row finds its referrers without a scan."""
    where = text(f"{column} IS NOT NULL")
    return Index(name, column, *more, sqlite_where=where, postgresql_where=where)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, datetime: UTCDateTime()}


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()


class WebSession(Base):
    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    overlap: Mapped[int] = mapped_column(Integer, default=1)
    lease_seconds: Mapped[int] = mapped_column(Integer, default=1800)
    strategy: Mapped[str] = mapped_column(String(40), default="sequential")
    quality_method: Mapped[str] = mapped_column(String(40), default="dawid_skene")
    quality_refresh_every: Mapped[int] = mapped_column(Integer, default=500)
    adaptive_overlap: Mapped[bool] = mapped_column(Boolean, default=False)
    adaptive_start: Mapped[int] = mapped_column(Integer, default=3)
    adaptive_threshold: Mapped[float] = mapped_column(Float, default=0.8)
    gold_rate: Mapped[float] = mapped_column(Float, default=0.0)
    gold_min_answers: Mapped[int] = mapped_column(Integer, default=10)
    gold_pause_below: Mapped[float] = mapped_column(Float, default=0.0)
    stratify_by: Mapped[str | None] = mapped_column(String(200))
    stratify_shares: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Target shares of the stratified order's groups (group value or "*" -> share)."""
    daily_quota: Mapped[int] = mapped_column(Integer, default=0)
    practice_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    qualification_items: Mapped[int] = mapped_column(Integer, default=0)
    qualification_threshold: Mapped[float] = mapped_column(Float, default=0.8)
    review_policy: Mapped[str] = mapped_column(String(20), default="all")
    review_sample_rate: Mapped[float] = mapped_column(Float, default=0.1)
    review_new_until: Mapped[int] = mapped_column(Integer, default=20)
    adjudication_below: Mapped[float] = mapped_column(Float, default=0.0)
    pii_policy: Mapped[str] = mapped_column(String(10), default="off")
    """What an import does with personal data it finds: off, flag, mask or redact."""
    schema_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("schema_versions.id", use_alter=True, ondelete="SET NULL")
    )
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class SchemaVersion(Base):
    """The labeling schema and the guidelines, versioned together."""

    __tablename__ = "schema_versions"
    __table_args__ = (UniqueConstraint("project_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    schema: Mapped[dict[str, Any]] = mapped_column(JSON)
    guidelines: Mapped[str] = mapped_column(Text, default="")
    change_note: Mapped[str] = mapped_column(Text, default="")
    requires_recalibration: Mapped[bool] = mapped_column(Boolean, default=False)
    recalibration_items: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Membership(Base):
    __tablename__ = "memberships"
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paused_at: Mapped[datetime | None] = mapped_column()
    pause_reason: Mapped[str | None] = mapped_column(Text)


class ImportBatch(Base):
    __tablename__ = "import_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(1000), default="")
    format: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="running")
    n_items: Mapped[int] = mapped_column(Integer, default=0)
    n_duplicates: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_rows: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


class Item(Base):
    """One unit of raw data.

    ``n_assigned`` counts live leases plus submissions (the overlap slots taken).
    """

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("project_id", "content_hash"),
        Index("ix_items_queue", "project_id", "status", "id"),
        Index("ix_items_stratum", "project_id", "stratum", "status", "id"),
        # Listing a project's items in id order (every page of the data browser).
        Index("ix_items_listing", "project_id", "id"),
        Index("ix_items_model_queue", "project_id", "status", "queue_score", "id"),
        # Ids are never reused, so the contentless full-text index never matches a stale row.
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batches.id", ondelete="SET NULL"), index=True
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    media: Mapped[str | None] = mapped_column(String(2000))
    media_info: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20), default="open")
    n_assigned: Mapped[int] = mapped_column(Integer, default=0)
    n_done: Mapped[int] = mapped_column(Integer, default=0)
    target: Mapped[int | None] = mapped_column(Integer)
    """Answers the item needs when adaptive overlap asked for more (NULL: the project's start)."""
    stratum: Mapped[str | None] = mapped_column(String(500))
    """The value of the project's ``stratify_by`` metadata field, for the stratified queue."""
    queue_score: Mapped[float | None] = mapped_column(Float)
    """The model-driven queue's priority (higher first), set by the active-learning job."""
    pii: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    """Personal data found at import: ``{field, kind, start, end, action}`` per entity."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Assignment(Base):
    """Who holds or held an item: a lease, a submission or a skip. One row per (item, user)."""

    __tablename__ = "assignments"
    __table_args__ = (
        UniqueConstraint("item_id", "user_id"),
        Index("ix_assignments_user", "project_id", "user_id", "state"),
        Index("ix_assignments_expiry", "project_id", "state", "expires_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(20), default="leased")
    leased_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()


class Annotation(Base):
    __tablename__ = "annotations"
    __table_args__ = (
        Index("ix_annotations_item", "item_id", "is_latest"),
        Index("ix_annotations_user", "project_id", "user_id", "id"),
        Index("ix_annotations_project", "project_id", "id"),
        Index("ix_annotations_review_queue", "project_id", "awaiting_review", "item_id"),
        _where_set("ix_annotations_parent", "parent_id"),
        _where_set("ix_annotations_prediction", "prediction_id", "prelabel_accepted"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("annotations.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_latest: Mapped[bool] = mapped_column(Boolean, default=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    skip_reason: Mapped[str | None] = mapped_column(Text)
    lead_time: Mapped[float | None] = mapped_column(Float)
    prediction_id: Mapped[int | None] = mapped_column(
        ForeignKey("predictions.id", ondelete="SET NULL")
    )
    """The newest prediction of the item when the answer was submitted (the pre-label shown)."""
    prelabel_accepted: Mapped[bool | None] = mapped_column(Boolean)
    """Whether the answer equals that pre-label (None when there was none)."""
    review_required: Mapped[bool] = mapped_column(Boolean, default=True)
    """Whether the project's review policy puts this answer in the review queue."""
    awaiting_review: Mapped[bool] = mapped_column(Boolean, default=False)
    """In the review queue now: review required, the current answer, not a skip, no verdict
    yet. Kept by the writes that change those, so the queue is read through its index."""
    schema_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("schema_versions.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Review(Base):
    """A reviewer's verdict on one annotation version: accepted, rejected (back to its author,
    with the reason) or fixed (the reviewer's corrected version is ``fixed_annotation_id``)."""

    __tablename__ = "reviews"
    __table_args__ = (
        Index("ix_reviews_annotation", "annotation_id", "id"),
        Index("ix_reviews_project", "project_id", "id"),
        _where_set("ix_reviews_fixed", "fixed_annotation_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotations.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    verdict: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    fixed_annotation_id: Mapped[int | None] = mapped_column(
        ForeignKey("annotations.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Consensus(Base):
    """The aggregated label of one item for one control, with the method that produced it.
    Recomputing a control replaces its rows; the method and parameters stay with every row."""

    __tablename__ = "consensus"
    __table_args__ = (
        UniqueConstraint("project_id", "control", "item_id"),
        Index("ix_consensus_item", "item_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    control: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(500))
    confidence: Mapped[float] = mapped_column(Float)
    n_labels: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class GoldAnswer(Base):
    """The known answer of a gold item (a honeypot). A gold item has status ``gold``: it is
    served to every annotator at the project's gold rate instead of going through overlap, and
    this row never leaves the server to annotators."""

    __tablename__ = "gold_answers"
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GoldScore(Base):
    """How one annotator's answer to a gold item compared with the known answer."""

    __tablename__ = "gold_scores"
    __table_args__ = (
        UniqueConstraint("item_id", "user_id"),
        Index("ix_gold_scores_user", "project_id", "user_id"),
        Index("ix_gold_scores_annotation", "annotation_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    annotation_id: Mapped[int] = mapped_column(ForeignKey("annotations.id", ondelete="CASCADE"))
    correct: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    scored_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """Something a project's managers should see (e.g. an annotator paused by the gold rule)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_project", "project_id", "read_at", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column()


class Qualification(Base):
    """An annotator's qualification (before real items) or recalibration (after a guidelines
    version that requires it) on a project: gold items answered with feedback, then passed or
    failed against the project's threshold."""

    __tablename__ = "qualifications"
    __table_args__ = (
        Index("ix_qualifications_user", "project_id", "user_id", "kind", "id"),
        # At most one attempt in progress per annotator and project, whatever races to open one.
        Index(
            "uq_qualifications_in_progress",
            "project_id",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'in_progress'"),
            postgresql_where=text("status = 'in_progress'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # qualification | recalibration
    schema_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("schema_versions.id", ondelete="SET NULL")
    )
    # in_progress | passed | failed | superseded (closed unfinished: another kind became due)
    status: Mapped[str] = mapped_column(String(20), default="in_progress")
    n_required: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[float] = mapped_column(Float)
    n_answered: Mapped[int] = mapped_column(Integer, default=0)
    n_correct: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()


class PracticeAnswer(Base):
    """An answer given in practice, qualification or recalibration: scored against the gold
    answer and shown back to the annotator; never an annotation of the item."""

    __tablename__ = "practice_answers"
    __table_args__ = (
        Index("ix_practice_answers_user", "project_id", "user_id", "id"),
        Index("ix_practice_answers_item", "item_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    qualification_id: Mapped[int | None] = mapped_column(
        ForeignKey("qualifications.id", ondelete="CASCADE")
    )
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    correct: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Adjudication(Base):
    """An item whose answers disagree too much, decided by an adjudicator: the final result is
    the item's ground truth, with where it came from."""

    __tablename__ = "adjudications"
    __table_args__ = (
        UniqueConstraint("item_id"),
        Index("ix_adjudications_queue", "project_id", "status", "agreement", "item_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | resolved
    agreement: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column()


class Thread(Base):
    """A question or a flag an annotator raised on an item (or the project), with its answers."""

    __tablename__ = "threads"
    __table_args__ = (Index("ix_threads_project", "project_id", "status", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int | None] = mapped_column(
        ForeignKey("items.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # question | flag
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | resolved
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column()


class ThreadMessage(Base):
    __tablename__ = "thread_messages"
    __table_args__ = (Index("ix_thread_messages_thread", "thread_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GuidelineExample(Base):
    """An example or counter-example attached to the guidelines: an item with its (right or
    wrong) answer and a note, added from the disagreement report, a question or by hand."""

    __tablename__ = "guideline_examples"
    __table_args__ = (
        Index("ix_guideline_examples_project", "project_id", "id"),
        Index("ix_guideline_examples_item", "item_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))  # example | counter_example
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    section: Mapped[str] = mapped_column(String(300), default="")
    source: Mapped[str] = mapped_column(String(40), default="manual")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QualityRun(Base):
    """One computation of a control's quality: agreement report, consensus, annotator skills and
    suspected errors, with the newest annotation it saw (to know when to compute again)."""

    __tablename__ = "quality_runs"
    __table_args__ = (Index("ix_quality_runs_project", "project_id", "control", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    control: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    n_items: Mapped[int] = mapped_column(Integer)
    n_labels: Mapped[int] = mapped_column(Integer)
    n_annotators: Mapped[int] = mapped_column(Integer)
    n_suspects: Mapped[int] = mapped_column(Integer)
    last_annotation_id: Mapped[int] = mapped_column(Integer)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    seconds: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnnotatorSkill(Base):
    """An annotator's estimated skill on one control from the latest quality run: the
    aggregation model's share of correct answers and the plain agreement with the consensus."""

    __tablename__ = "annotator_skills"
    __table_args__ = (UniqueConstraint("project_id", "control", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    control: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(40))
    skill: Mapped[float | None] = mapped_column(Float)
    agreement: Mapped[float] = mapped_column(Float)
    n_labels: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class SuspectedError(Base):
    """An item whose label is probably wrong, with the evidence. A reviewer confirms it (by
    rejecting or fixing an answer) or dismisses it; a dismissed item stays dismissed while its
    label is unchanged."""

    __tablename__ = "suspected_errors"
    __table_args__ = (
        UniqueConstraint("project_id", "control", "item_id"),
        Index("ix_suspected_errors_rank", "project_id", "status", "score", "item_id"),
        Index("ix_suspected_errors_item", "item_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    control: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(500))
    suggested_label: Mapped[str | None] = mapped_column(String(500))
    score: Mapped[float] = mapped_column(Float)
    sources: Mapped[str] = mapped_column(String(40))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20), default="open")
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column()


class AnnotationLabel(Base):
    """Derived index of the labels in current annotations, for filtering items by label."""

    __tablename__ = "annotation_labels"
    __table_args__ = (
        Index("ix_annotation_labels_label", "project_id", "label", "item_id"),
        Index("ix_annotation_labels_item", "item_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    annotation_id: Mapped[int] = mapped_column(
        ForeignKey("annotations.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    control: Mapped[str] = mapped_column(String(200))
    label: Mapped[str] = mapped_column(String(500))


class Prediction(Base):
    __tablename__ = "predictions"
    __table_args__ = (
        Index("ix_predictions_item", "item_id", "model_name"),
        _where_set("ix_predictions_backend", "backend_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    model_name: Mapped[str] = mapped_column(String(200))
    model_version: Mapped[str] = mapped_column(String(200), default="")
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[float | None] = mapped_column(Float)
    backend_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_backends.id", ondelete="SET NULL")
    )
    probas: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Class probabilities of a classification (label -> probability), when the model has them."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelBackend(Base):
    """A model configured in a project: a built-in kind (text classifier, pattern NER, nearest
    neighbours) or an external server (HTTP, Label Studio ML backend). Its predictions become
    pre-labels; it is retrained every ``retrain_every`` new human labels (0: on demand only)."""

    __tablename__ = "model_backends"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    control: Mapped[str] = mapped_column(String(200))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """What a fitted built-in model needs to predict again (e.g. its training labels' ids)."""
    retrain_every: Mapped[int] = mapped_column(Integer, default=0)
    labels_at_fit: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    fitted_at: Mapped[datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ItemVector(Base):
    """An item's embedding under one embedder (float32 bytes), for similarity search,
    nearest-neighbour labels and diversity sampling."""

    __tablename__ = "item_vectors"
    __table_args__ = (Index("ix_item_vectors_project", "project_id", "embedder", "item_id"),)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    embedder: Mapped[str] = mapped_column(String(200), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LabelingFunction(Base):
    """A weak-supervision rule of a project: a keyword list, a regular expression or a Python
    function registered by a plugin, voting ``label`` on ``control`` (or abstaining)."""

    __tablename__ = "labeling_functions"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    control: Mapped[str] = mapped_column(String(200))
    label: Mapped[str | None] = mapped_column(String(500))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ItemDuplicate(Base):
    """An item found to duplicate others: its group (the smallest item id in the group is the
    kept representative), how it was found and its similarity to the representative."""

    __tablename__ = "item_duplicates"
    __table_args__ = (Index("ix_item_duplicates_group", "project_id", "group_id", "item_id"),)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(20))
    similarity: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_project", "project_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    before_id: Mapped[int | None] = mapped_column(Integer)
    after_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_project_kind", "project_id", "kind", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
