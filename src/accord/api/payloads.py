"""Request and response bodies of the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=150)
    password: str | None = Field(default=None, min_length=8)
    email: str | None = None
    is_admin: bool = False


class UserOut(Out):
    id: int
    username: str
    email: str | None
    is_admin: bool
    is_active: bool


class LoginIn(BaseModel):
    username: str
    password: str


class LoginOut(BaseModel):
    user: UserOut
    csrf_token: str


class TokenIn(BaseModel):
    name: str = Field(default="api", max_length=200)


class TokenOut(Out):
    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="The secret; shown once, store it now.")


class ProjectIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    schema_: dict[str, Any] | str = Field(
        alias="schema", description="Schema as an object or YAML/JSON text."
    )
    guidelines: str = ""
    overlap: int = Field(default=1, ge=1, le=100)
    lease_seconds: int = Field(default=1800, ge=10, le=7 * 86400)
    strategy: str = "sequential"
    quality_method: str = Field(default="dawid_skene", description="consensus method")
    quality_refresh_every: int = Field(
        default=500, ge=0, description="recompute quality after this many annotations (0: never)"
    )
    adaptive_overlap: bool = Field(
        default=False,
        description="start with adaptive_start answers, add more only on disagreement",
    )
    adaptive_start: int = Field(default=3, ge=1, le=100)
    adaptive_threshold: float = Field(
        default=0.8,
        ge=0.5,
        le=1,
        description="vote share of the leading label that settles an item",
    )
    gold_rate: float = Field(
        default=0.0, ge=0, le=0.5, description="share of an annotator's items that are gold"
    )
    gold_min_answers: int = Field(
        default=10, ge=1, le=10_000, description="gold answers before the pause rule applies"
    )
    gold_pause_below: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="pause an annotator under this gold accuracy (0: never)",
    )

    stratify_by: str | None = Field(
        default=None, description="metadata field whose values the stratified queue balances"
    )
    stratify_shares: dict[str, float] | None = Field(
        default=None,
        description="target shares of the stratified order's groups (set them once the items "
        'are imported: only groups the items have, or "*", are accepted)',
    )
    daily_quota: int = Field(default=0, ge=0, description="answers per annotator per day (0: none)")
    practice_enabled: bool = True
    qualification_items: int = Field(
        default=0, ge=0, le=1000, description="gold items to pass before real items (0: none)"
    )
    qualification_threshold: float = Field(default=0.8, ge=0, le=1)
    review_policy: str = Field(default="all", description="none, sample, all or new_annotators")
    review_sample_rate: float = Field(default=0.1, ge=0, le=1)
    review_new_until: int = Field(
        default=20, ge=0, description="new_annotators: reviews an annotator needs to pass"
    )
    adjudication_below: float = Field(
        default=0.0, ge=0, le=1, description="items under this agreement go to adjudication"
    )
    pii_policy: str = Field(
        default="off", description="personal data at import: off, flag, mask or redact"
    )

    model_config = ConfigDict(populate_by_name=True)


class ProjectUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = None
    overlap: int | None = Field(default=None, ge=1, le=100)
    lease_seconds: int | None = Field(default=None, ge=10, le=7 * 86400)
    strategy: str | None = None
    quality_method: str | None = None
    quality_refresh_every: int | None = Field(default=None, ge=0)
    adaptive_overlap: bool | None = None
    adaptive_start: int | None = Field(default=None, ge=1, le=100)
    adaptive_threshold: float | None = Field(default=None, ge=0.5, le=1)
    gold_rate: float | None = Field(default=None, ge=0, le=0.5)
    gold_min_answers: int | None = Field(default=None, ge=1, le=10_000)
    gold_pause_below: float | None = Field(default=None, ge=0, le=1)
    stratify_by: str | None = None
    stratify_shares: dict[str, float] | None = Field(
        default=None,
        description='target shares of the stratified order\'s groups, e.g. {"en": 0.5, '
        '"de": 0.3, "*": 0.2} ("*": split by the groups not named); {} clears them',
    )
    daily_quota: int | None = Field(default=None, ge=0)
    practice_enabled: bool | None = None
    qualification_items: int | None = Field(default=None, ge=0, le=1000)
    qualification_threshold: float | None = Field(default=None, ge=0, le=1)
    review_policy: str | None = None
    review_sample_rate: float | None = Field(default=None, ge=0, le=1)
    review_new_until: int | None = Field(default=None, ge=0)
    adjudication_below: float | None = Field(default=None, ge=0, le=1)
    pii_policy: str | None = Field(default=None, description="off, flag, mask or redact")


class ProjectOut(Out):
    id: int
    name: str
    description: str
    overlap: int
    lease_seconds: int
    strategy: str
    quality_method: str
    quality_refresh_every: int
    adaptive_overlap: bool
    adaptive_start: int
    adaptive_threshold: float
    gold_rate: float
    gold_min_answers: int
    gold_pause_below: float
    stratify_by: str | None
    stratify_shares: dict[str, float] | None = None
    daily_quota: int
    practice_enabled: bool
    qualification_items: int
    qualification_threshold: float
    review_policy: str
    review_sample_rate: float
    review_new_until: int
    adjudication_below: float
    pii_policy: str = "off"
    created_at: datetime
    role: str | None = None
    counts: dict[str, int] | None = None
    labels_saved: int | None = Field(
        default=None, description="adaptive overlap: answers not asked for against fixed N"
    )
    adjudication_job_id: int | None = Field(
        default=None,
        description="PATCH: the job judging the done items again after adjudication_below "
        "changed (follow it at /jobs/{id})",
    )


class SchemaIn(BaseModel):
    schema_: dict[str, Any] | str | None = Field(default=None, alias="schema")
    guidelines: str | None = None
    change_note: str = ""
    requires_recalibration: bool = Field(
        default=False, description="annotators pass a recalibration before real items again"
    )
    recalibration_items: int = Field(default=0, ge=0, le=1000)

    model_config = ConfigDict(populate_by_name=True)


class SchemaVersionOut(Out):
    id: int
    version: int
    schema_: dict[str, Any] = Field(alias="schema", validation_alias="schema")
    guidelines: str
    change_note: str
    requires_recalibration: bool = False
    recalibration_items: int = 0
    created_at: datetime

    model_config = ConfigDict(from_attributes=True, populate_by_name=True)


class MemberIn(BaseModel):
    role: str


class MemberOut(BaseModel):
    user: UserOut
    role: str


class ItemOut(Out):
    id: int
    data: dict[str, Any]
    meta: dict[str, Any]
    media: str | None
    media_info: dict[str, Any] | None
    status: str
    n_done: int
    batch_id: int | None
    created_at: datetime


class TaskItemOut(Out):
    """An item as an annotator sees it: its content only. Nothing here tells a gold item (or its
    progress) apart from any other."""

    id: int
    data: dict[str, Any]
    meta: dict[str, Any]
    media: str | None
    media_info: dict[str, Any] | None


class ItemPage(BaseModel):
    items: list[ItemOut]
    next_after: int | None = Field(
        description="Pass as `after` for the next page; null at the end."
    )


class ItemsIn(BaseModel):
    items: list[dict[str, Any]] = Field(min_length=1)
    check_duplicates: bool = Field(
        default=True, description="queue a duplicates check of the project after the import"
    )


class PredictionOut(Out):
    id: int
    item_id: int
    model_name: str
    model_version: str
    result: dict[str, Any]
    score: float | None
    created_at: datetime


class PredictionIn(BaseModel):
    item_id: int
    result: dict[str, Any]
    model_name: str = Field(min_length=1, max_length=200)
    model_version: str = ""
    score: float | None = None


class PredictionsIn(BaseModel):
    predictions: list[PredictionIn] = Field(min_length=1)


class AnnotationIn(BaseModel):
    result: dict[str, Any]
    lead_time: float | None = Field(
        default=None, ge=0, description="Seconds from display to submit."
    )


class SkipIn(BaseModel):
    reason: str = Field(default="", max_length=2000)
    lead_time: float | None = Field(default=None, ge=0)


class AnnotationOut(Out):
    id: int
    item_id: int
    user_id: int | None
    parent_id: int | None
    version: int
    is_latest: bool
    result: dict[str, Any]
    skipped: bool
    skip_reason: str | None
    lead_time: float | None
    schema_version_id: int | None
    created_at: datetime


class ReviewOut(Out):
    id: int
    annotation_id: int
    reviewer_id: int | None
    verdict: str
    reason: str | None
    fixed_annotation_id: int | None
    created_at: datetime


class ReviewIn(BaseModel):
    verdict: Literal["accepted", "rejected", "fixed"]
    reason: str | None = Field(default=None, max_length=2000)
    result: dict[str, Any] | None = Field(default=None, description="the corrected result (fixed)")


class ReworkOut(BaseModel):
    """Your answer to this item, sent back by a reviewer, and why."""

    annotation: AnnotationOut
    reason: str | None


class LeaseOut(BaseModel):
    item: TaskItemOut
    expires_at: datetime
    schema_version: int
    predictions: list[PredictionOut]
    rework: ReworkOut | None = None


class ImportOut(Out):
    id: int
    source: str
    format: str
    status: str
    n_items: int
    n_duplicates: int
    duplicate_rows: dict[str, Any]
    error: dict[str, Any] | None
    priority: int
    created_at: datetime
    finished_at: datetime | None
    duplicates_job_id: int | None = Field(
        default=None, description="the duplicates check queued after this import, if any"
    )


class BatchPriorityIn(BaseModel):
    priority: int = Field(ge=-1000, le=1000, description="higher: given out first")


class JobOut(Out):
    id: int
    kind: str
    status: str = Field(description="queued, running, finished or failed")
    project_id: int | None
    result: dict[str, Any] | None
    error: str | None
    progress: int | None = Field(default=None, description="units done so far (import: rows)")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class SuspectOut(Out):
    """An item whose label is probably wrong, with the evidence."""

    item_id: int
    control: str
    label: str
    suggested_label: str | None
    score: float
    sources: str
    reasons: list[str]
    status: str
    computed_at: datetime
    resolved_at: datetime | None


class AuditOut(Out):
    id: int
    at: datetime
    actor_id: int | None
    action: str
    entity: str
    entity_id: int | None
    before_id: int | None
    after_id: int | None
    details: dict[str, Any]
