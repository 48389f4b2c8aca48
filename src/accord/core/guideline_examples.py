"""Guideline examples and counter-examples: an item with a right (or typically wrong) answer and
a note, grouped by guideline section, shown in the labeling page's guidelines panel. Managers
add them by hand, from a question (core/threads.py) or from an item the quality run suspects
(source ``disagreement``) and delete them; everyone on the project reads them.

Gold items never become examples: the example would show annotators the gold answer (or,
through the item, which items are gold). An item made gold after it became an example is
hidden from annotators' lists and media for the same reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.core import audit
from accord.core.items import get_item, item_context
from accord.core.schemas import current_schema, parsed_schema
from accord.db.models import (
    GoldAnswer,
    GuidelineExample,
    Item,
    Project,
    SuspectedError,
    User,
)
from accord.errors import Conflict, InvalidInput, InvalidResult, NotFound
from accord.schema import validate_result

KINDS = ("example", "counter_example")
SOURCES = ("manual", "question", "disagreement")
MAX_NOTE = 20_000
MAX_SECTION = 300


@dataclass(frozen=True)
class ExampleView:
    example: GuidelineExample
    item: Item | None
    author: str | None


def _is_gold(session: Session, item: Item) -> bool:
    return item.status == "gold" or session.get(GoldAnswer, item.id) is not None


def _partial_result(
    session: Session, project: Project, item: Item, result: Mapping[str, Any]
) -> dict[str, Any]:
    """The answer checked against the schema like an annotation, except that an example may
    show only some controls (a required control left out is no error)."""
    schema = parsed_schema(current_schema(session, project).schema)
    try:
        return validate_result(schema, result, item_context(item))
    except InvalidResult as exc:
        problems = [p for p in exc.problems if p.rule != "required"]
        if problems:
            raise InvalidResult(problems, item.id) from None
    clean = {k: v for k, v in result.items() if v is not None and v != [] and v != ""}
    if not clean:
        raise InvalidInput(
            "the answer of an example must hold at least one control",
            [{"field": "result", "rule": "required"}],
        )
    return clean


def create_example(
    session: Session,
    project: Project,
    actor: User,
    *,
    item_id: int | None,
    kind: str,
    result: Mapping[str, Any] | None = None,
    note: str | None = "",
    section: str | None = "",
    source: str = "manual",
) -> GuidelineExample:
    if kind not in KINDS:
        raise InvalidInput(
            f"kind must be one of {', '.join(KINDS)}", [{"field": "kind", "rule": "choice"}]
        )
    if source not in SOURCES:
        raise InvalidInput(
            f"source must be one of {', '.join(SOURCES)}", [{"field": "source", "rule": "choice"}]
        )
    note = (note or "").strip()
    section = (section or "").strip()
    if len(note) > MAX_NOTE or len(section) > MAX_SECTION:
        raise InvalidInput(
            f"the note may have {MAX_NOTE} characters and the section {MAX_SECTION}",
            [{"field": "note" if len(note) > MAX_NOTE else "section", "rule": "max_length"}],
        )
    clean: dict[str, Any] | None = None
    if item_id is None:
        if result:
            raise InvalidInput(
                "an answer needs the item it answers", [{"field": "item_id", "rule": "required"}]
            )
        if not note:
            raise InvalidInput(
                "an example without an item needs a note", [{"field": "note", "rule": "required"}]
            )
    else:
        item = get_item(session, project, item_id)
        if _is_gold(session, item):
            raise Conflict(
                f"item {item.id} is a gold item: as a guideline example it would show "
                "annotators its known answer; choose another item, or make it an ordinary "
                "item first"
            )
        if result:
            clean = _partial_result(session, project, item, result)
    example = GuidelineExample(
        project_id=project.id,
        item_id=item_id,
        kind=kind,
        result=clean,
        note=note,
        section=section,
        source=source,
        created_by=actor.id,
    )
    session.add(example)
    session.flush()
    audit.record(
        session,
        actor_id=actor.id,
        action="guideline_example.create",
        entity="guideline_example",
        entity_id=example.id,
        project_id=project.id,
        item_id=item_id,
        kind=kind,
        source=source,
    )
    return example


def from_suspect(
    session: Session,
    project: Project,
    actor: User,
    *,
    item_id: int,
    control: str,
    kind: str,
    label: str | None = None,
    note: str | None = None,
    section: str | None = "",
) -> GuidelineExample:
    """An edge case from the quality run's suspects, in one step: the item with ``label`` (by
    default the suggested label for an example, the consensus label for a counter-example)
    and, without a note, the reasons it was suspected."""
    suspect = session.scalar(
        select(SuspectedError).where(
            SuspectedError.project_id == project.id,
            SuspectedError.item_id == item_id,
            SuspectedError.control == control,
        )
    )
    if suspect is None:
        raise NotFound(f"item {item_id} is not a suspected error of control {control!r}")
    if label is None:
        label = (
            suspect.suggested_label
            if kind == "example" and suspect.suggested_label
            else suspect.label
        )
    if not (note or "").strip():
        note = "; ".join(suspect.reasons or [])
    return create_example(
        session,
        project,
        actor,
        item_id=item_id,
        kind=kind,
        result={control: label},
        note=note,
        section=section,
        source="disagreement",
    )


def get_example(session: Session, project: Project, example_id: int) -> GuidelineExample:
    example = session.get(GuidelineExample, example_id)
    if example is None or example.project_id != project.id:
        raise NotFound(f"guideline example {example_id} not found in project {project.id}")
    return example


def delete_example(session: Session, project: Project, actor: User, example_id: int) -> None:
    example = get_example(session, project, example_id)
    session.delete(example)
    session.flush()
    audit.record(
        session,
        actor_id=actor.id,
        action="guideline_example.delete",
        entity="guideline_example",
        entity_id=example_id,
        project_id=project.id,
        item_id=example.item_id,
        kind=example.kind,
    )


def list_examples(
    session: Session, project: Project, *, include_gold: bool = False
) -> list[ExampleView]:
    """By section (in the order sections first appeared), then oldest first. Examples whose
    item has since become gold are left out unless ``include_gold`` (reviewers, managers)."""
    rows = session.execute(
        select(GuidelineExample, Item, User.username)
        .outerjoin(Item, Item.id == GuidelineExample.item_id)
        .outerjoin(User, User.id == GuidelineExample.created_by)
        .where(GuidelineExample.project_id == project.id)
        .order_by(GuidelineExample.id)
    ).all()
    gold = (
        set()
        if include_gold
        else set(
            session.scalars(
                select(GoldAnswer.item_id).where(
                    GoldAnswer.project_id == project.id,
                    GoldAnswer.item_id.in_([e.item_id for e, _, _ in rows if e.item_id]),
                )
            )
        )
    )
    views = [
        ExampleView(e, item, name)
        for e, item, name in rows
        if include_gold or (e.item_id not in gold and (item is None or item.status != "gold"))
    ]
    order: dict[str, int] = {}
    for v in views:
        order.setdefault(v.example.section, len(order))
    return sorted(views, key=lambda v: (order[v.example.section], v.example.id))


def view_of(session: Session, example: GuidelineExample) -> ExampleView:
    item = session.get(Item, example.item_id) if example.item_id is not None else None
    author = session.get(User, example.created_by) if example.created_by is not None else None
    return ExampleView(example, item, author.username if author else None)


def sections(session: Session, project: Project) -> list[str]:
    """The sections the project's examples use, for choosing one when adding another."""
    found = session.scalars(
        select(GuidelineExample.section)
        .where(GuidelineExample.project_id == project.id, GuidelineExample.section != "")
        .distinct()
    )
    return sorted(found)
