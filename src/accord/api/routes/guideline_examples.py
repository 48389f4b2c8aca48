"""Guideline examples and counter-examples: everyone on the project reads them; managers add
them (by hand, or from a suspected label error in one step) and delete them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from accord.api.deps import CurrentUser, ReadSessionDep, SessionDep
from accord.api.payloads import TaskItemOut
from accord.core import guideline_examples, projects
from accord.core.guideline_examples import ExampleView
from accord.core.policies import ProjectPolicy, authorize, can

router = APIRouter(prefix="/projects/{project_id}/guideline-examples", tags=["guidelines"])

Kind = Literal["example", "counter_example"]


class ExampleIn(BaseModel):
    item_id: int | None = Field(default=None, description="the item shown (none: a note only)")
    kind: Kind
    result: dict[str, Any] | None = Field(
        default=None, description="the answer shown, in the annotation format (some controls)"
    )
    note: str = Field(default="", max_length=20_000)
    section: str = Field(default="", max_length=300, description="guideline section")


class SuspectExampleIn(BaseModel):
    item_id: int
    control: str
    kind: Kind
    label: str | None = Field(
        default=None,
        description="the label shown; default: the suggested label for an example, the "
        "consensus label for a counter-example",
    )
    note: str | None = Field(default=None, description="default: why the item was suspected")
    section: str = Field(default="", max_length=300)


class ExampleOut(BaseModel):
    id: int
    kind: str
    item_id: int | None
    item: TaskItemOut | None = Field(description="the item's content")
    result: dict[str, Any] | None
    note: str
    section: str
    source: str
    created_by: str | None
    created_at: datetime


def example_out(view: ExampleView) -> ExampleOut:
    e = view.example
    return ExampleOut(
        id=e.id,
        kind=e.kind,
        item_id=e.item_id,
        item=TaskItemOut.model_validate(view.item) if view.item is not None else None,
        result=e.result,
        note=e.note,
        section=e.section,
        source=e.source,
        created_by=view.author,
        created_at=e.created_at,
    )


@router.get("", response_model=list[ExampleOut])
def list_examples(project_id: int, session: ReadSessionDep, user: CurrentUser) -> list[ExampleOut]:
    """By section, oldest first, with the items' content."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view(project))
    staff = can(session, user, ProjectPolicy.review(project))
    rows = guideline_examples.list_examples(session, project, include_gold=staff)
    return [example_out(v) for v in rows]


@router.post("", response_model=ExampleOut, status_code=201)
def create_example(
    project_id: int, body: ExampleIn, session: SessionDep, user: CurrentUser
) -> ExampleOut:
    """409 for a gold item: the example would show annotators its known answer."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    example = guideline_examples.create_example(
        session,
        project,
        user,
        item_id=body.item_id,
        kind=body.kind,
        result=body.result,
        note=body.note,
        section=body.section,
    )
    return example_out(guideline_examples.view_of(session, example))


@router.post("/from-suspect", response_model=ExampleOut, status_code=201)
def example_from_suspect(
    project_id: int, body: SuspectExampleIn, session: SessionDep, user: CurrentUser
) -> ExampleOut:
    """An edge case from the quality run's suspected errors (source ``disagreement``)."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    example = guideline_examples.from_suspect(
        session,
        project,
        user,
        item_id=body.item_id,
        control=body.control,
        kind=body.kind,
        label=body.label,
        note=body.note,
        section=body.section,
    )
    return example_out(guideline_examples.view_of(session, example))


@router.delete("/{example_id}", status_code=204)
def delete_example(
    project_id: int, example_id: int, session: SessionDep, user: CurrentUser
) -> None:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    guideline_examples.delete_example(session, project, user, example_id)
