"""Training: practice with feedback, the qualification and recalibration gate, the managers'
results table with reset, and the diff between two guideline versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from accord.api.deps import CurrentUser, ReadSessionDep, SessionDep, StorageDep
from accord.api.media_response import media_response
from accord.api.payloads import TaskItemOut
from accord.core import guidelines, media, projects, training, users
from accord.core.guidelines import GuidelinesDiff, Section
from accord.core.policies import ProjectPolicy, authorize
from accord.core.training import Feedback

router = APIRouter(prefix="/projects/{project_id}", tags=["training"])


class AnswerIn(BaseModel):
    result: dict[str, Any]


class QualificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str = Field(description="qualification or recalibration")
    status: str = Field(
        description="in_progress, passed, failed or superseded (closed unfinished when the "
        "other kind became due)"
    )
    n_required: int
    threshold: float
    n_answered: int
    n_correct: int
    started_at: datetime
    finished_at: datetime | None


class QualificationResultOut(QualificationOut):
    user_id: int
    username: str
    accuracy: float | None = Field(description="n_correct / n_required once finished")


class SectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    heading: str
    text: str = Field(description="the section's markdown, without its heading")
    html: str = Field(description="the text as sanitised HTML (images included)")


class FeedbackOut(BaseModel):
    item_id: int
    correct: bool
    score: float = Field(description="the lowest per-control score")
    scores: dict[str, float] = Field(description="per control of the gold answer, 0 to 1")
    answer: dict[str, Any] = Field(description="your answer, as stored")
    correct_answer: dict[str, Any]
    control: str | None = Field(description="the control the guideline section is for")
    guideline: SectionOut | None
    qualification: QualificationOut | None = None


class PracticeItemOut(BaseModel):
    item: TaskItemOut
    answered: int = Field(description="practice answers given so far")
    correct: int


class AttemptItemOut(BaseModel):
    item: TaskItemOut
    qualification: QualificationOut


class DiffLineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    op: str = Field(description="'=' unchanged, '-' removed, '+' added")
    text: str
    old: int | None
    new: int | None


class VersionChangeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    version: int
    change_note: str
    requires_recalibration: bool


class DiffOut(BaseModel):
    from_version: int
    to_version: int
    changes: list[VersionChangeOut]
    schema_changed: bool
    lines: list[DiffLineOut]
    unified: str


class TrainingStatusOut(BaseModel):
    state: str = Field(description="none, needed, in_progress or failed")
    kind: str | None
    n_required: int | None
    threshold: float | None
    message: str | None = Field(description="why real items are held back")
    qualification: QualificationOut | None
    what_changed: DiffOut | None = Field(description="recalibration: the guidelines diff")
    practice_enabled: bool


def _diff(found: GuidelinesDiff) -> DiffOut:
    return DiffOut(
        from_version=found.from_version,
        to_version=found.to_version,
        changes=[VersionChangeOut.model_validate(c) for c in found.changes],
        schema_changed=found.schema_changed,
        lines=[DiffLineOut.model_validate(line) for line in found.lines],
        unified=found.unified,
    )


def _section(found: Section) -> SectionOut:
    return SectionOut(heading=found.heading, text=found.text, html=guidelines.to_html(found.text))


def _feedback(found: Feedback) -> FeedbackOut:
    return FeedbackOut(
        item_id=found.item_id,
        correct=found.correct,
        score=found.score,
        scores=found.scores,
        answer=found.answer,
        correct_answer=found.correct_answer,
        control=found.control,
        guideline=_section(found.guideline) if found.guideline else None,
        qualification=QualificationOut.model_validate(found.attempt) if found.attempt else None,
    )


@router.post(
    "/practice/next",
    response_model=PracticeItemOut,
    responses={204: {"description": "No practice item is left for you."}},
)
def practice_next(project_id: int, session: SessionDep, user: CurrentUser) -> Any:
    """Your current practice item (the same one until you answer it)."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.annotate(project))
    item = training.practice_item(session, project, user.id)
    if item is None:
        return Response(status_code=204)
    answered, correct = training.practice_stats(session, project, user.id)
    return PracticeItemOut(
        item=TaskItemOut.model_validate(item), answered=answered, correct=correct
    )


@router.post("/practice/items/{item_id}/answer", response_model=FeedbackOut)
def practice_answer(
    project_id: int, item_id: int, body: AnswerIn, session: SessionDep, user: CurrentUser
) -> FeedbackOut:
    """Answer your practice item: right or wrong, the scores, the correct answer and the
    guideline section that applies. Never an annotation."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.annotate(project))
    return _feedback(training.answer_practice(session, project, user, item_id, body.result))


@router.get("/qualification", response_model=TrainingStatusOut)
def qualification_status(
    project_id: int, session: ReadSessionDep, user: CurrentUser
) -> TrainingStatusOut:
    """Whether a qualification or recalibration stands between you and real items."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    found = training.status(session, project, user.id)
    need = found.requirement
    changed = training.what_changed(session, project, found)
    return TrainingStatusOut(
        state=found.state,
        kind=need.kind if need else None,
        n_required=need.n_required if need else None,
        threshold=need.threshold if need else None,
        message=training.gate_message(found) if need else None,
        qualification=QualificationOut.model_validate(found.attempt) if found.attempt else None,
        what_changed=_diff(changed) if changed else None,
        practice_enabled=project.practice_enabled,
    )


@router.post("/qualification/start", response_model=QualificationOut)
def qualification_start(project_id: int, session: SessionDep, user: CurrentUser) -> Any:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.annotate(project))
    return QualificationOut.model_validate(training.start(session, project, user))


@router.post("/qualification/next", response_model=AttemptItemOut)
def qualification_next(project_id: int, session: SessionDep, user: CurrentUser) -> Any:
    """The current item of your qualification or recalibration in progress."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.annotate(project))
    attempt, item = training.attempt_item(session, project, user.id)
    return AttemptItemOut(
        item=TaskItemOut.model_validate(item),
        qualification=QualificationOut.model_validate(attempt),
    )


@router.post("/qualification/items/{item_id}/answer", response_model=FeedbackOut)
def qualification_answer(
    project_id: int, item_id: int, body: AnswerIn, session: SessionDep, user: CurrentUser
) -> FeedbackOut:
    """Answer the current item: the same feedback as practice, and the attempt's standing
    (passed or failed once every item is answered)."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.annotate(project))
    return _feedback(training.answer_attempt(session, project, user, item_id, body.result))


@router.get("/qualifications", response_model=list[QualificationResultOut])
def qualification_results(
    project_id: int, session: ReadSessionDep, user: CurrentUser, latest: bool = False
) -> list[QualificationResultOut]:
    """Every attempt (or each annotator's latest), newest first (managers only)."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    rows = (training.latest_results if latest else training.results)(session, project)
    return [
        QualificationResultOut(
            **QualificationOut.model_validate(q).model_dump(),
            user_id=q.user_id,
            username=name,
            accuracy=q.n_correct / q.n_required if q.finished_at and q.n_required else None,
        )
        for q, name in rows
    ]


@router.post("/qualifications/{username}/reset", response_model=QualificationOut)
def qualification_reset(
    project_id: int, username: str, session: SessionDep, user: CurrentUser
) -> Any:
    """Let an annotator who failed try again (a new attempt; the failed one stays)."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    member = users.get_user_by_name(session, username)
    return QualificationOut.model_validate(training.reset(session, project, member.id, user))


@router.get("/schema/versions/{a}/diff/{b}", response_model=DiffOut)
def schema_diff(project_id: int, a: int, b: int, session: ReadSessionDep, user: CurrentUser) -> Any:
    """What changed in the guidelines from version a to version b: the change notes of the
    versions in between and a line diff."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    return _diff(guidelines.diff_versions(session, project, a, b))


@router.get("/training/items/{item_id}/media", response_class=FileResponse)
def training_media(
    project_id: int, item_id: int, session: ReadSessionDep, user: CurrentUser, storage: StorageDep
) -> Response:
    """The media of your practice or qualification item, or of one you answered there."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.annotate(project))
    source = media.media_source(training.training_item(session, project, user.id, item_id), storage)
    return media_response(source)
