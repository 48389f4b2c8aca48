"""Server-side validation of annotation results against a schema; labels of a result."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from accord.errors import InvalidResult, ResultProblem
from accord.schema import regions
from accord.schema.context import ItemContext
from accord.schema.model import (
    Boxes,
    Choices,
    Control,
    FreeText,
    Keypoints,
    Masks,
    Number,
    Pairwise,
    Polygons,
    Ranking,
    Rating,
    Relations,
    RotatedBoxes,
    Segments,
    Spans,
    VideoTracks,
)
from accord.schema.parse import LabelingSchema

REGION_CONTROLS = (
    Spans,
    Relations,
    Boxes,
    RotatedBoxes,
    Polygons,
    Keypoints,
    Masks,
    Segments,
    VideoTracks,
)


@lru_cache(maxsize=256)
def _pattern(expr: str) -> re.Pattern[str]:
    return re.compile(expr)


def _choices(c: regions.Checker, control: Choices, value: Any) -> None:
    if not control.multiple:
        if isinstance(value, list):
            c.fail(
                "single_choice",
                f"this control takes one label, not a list of {len(value)}",
            )
        elif not isinstance(value, str):
            c.fail("type", "expected one label (a string)")
        elif value not in c.labels:
            c.unknown_label(value, "")
        return
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        c.fail("type", "expected a list of labels")
        return
    for i, v in enumerate(value):
        if v not in c.labels:
            c.unknown_label(v, f"[{i}]")
    if len(set(value)) != len(value):
        c.fail("duplicate_label", "a label is selected twice")
    if control.min_selected is not None and len(value) < control.min_selected:
        c.fail("min_selected", f"select at least {control.min_selected}")
    if control.max_selected is not None and len(value) > control.max_selected:
        c.fail("max_selected", f"select at most {control.max_selected}")


def _bounds(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    return f"at least {low:g}" if low is not None else f"at most {high:g}"


def _scalar(c: regions.Checker, control: Rating | Number | FreeText, value: Any) -> None:
    if isinstance(control, Rating):
        if not regions.is_int(value):
            c.fail("not_integer", "a rating is a whole number")
        elif not 1 <= value <= control.max:
            c.fail("out_of_range", f"a rating is 1 to {control.max}, not {value}")
    elif isinstance(control, Number):
        if not regions.is_number(value):
            c.fail("type", "expected a number")
            return
        if control.integer and value != int(value):
            c.fail("not_integer", "expected a whole number")
        if (control.min is not None and value < control.min) or (
            control.max is not None and value > control.max
        ):
            c.fail("out_of_range", f"{value:g} is not {_bounds(control.min, control.max)}")
    else:
        if not isinstance(value, str):
            c.fail("type", "expected text")
            return
        if control.max_length is not None and len(value) > control.max_length:
            c.fail("too_long", f"at most {control.max_length} characters, got {len(value)}")
        if control.pattern and not _pattern(control.pattern).fullmatch(value):
            c.fail("pattern", f"does not match {control.pattern!r}")


def _ranking(
    c: regions.Checker, control: Ranking, value: Any, item: ItemContext, schema: LabelingSchema
) -> None:
    """Static options are ranked by name; a list in the item's field by position (0-based)."""
    options: list[Any]
    if control.options:
        options = list(control.options)
        kind = "option names"
        well_typed = isinstance(value, list) and all(isinstance(v, str) for v in value)
    else:
        listed = item.data.get(schema.fields[control.field].key)
        if not isinstance(listed, list):
            c.fail("type", f"the item's {control.field!r} holds no list of options to rank")
            return
        options = list(range(len(listed)))
        kind = "positions"
        well_typed = isinstance(value, list) and all(regions.is_int(v) for v in value)
    if not well_typed:
        c.fail("type", f"expected a list of {kind}")
    elif sorted(value) != sorted(options):
        c.fail(
            "not_permutation",
            f"expected an ordering of all {len(options)} options, each once",
        )


def _check(
    schema: LabelingSchema,
    control: Control,
    value: Any,
    item: ItemContext,
    result: Mapping[str, Any],
    problems: list[ResultProblem],
) -> None:
    c = regions.Checker(
        control.name, schema.label_set(control.name), problems, _hint(schema, control)
    )
    text = (
        item.data.get(schema.fields[control.field].key) if control.field in schema.fields else None
    )
    if isinstance(control, Choices):
        _choices(c, control, value)
    elif isinstance(control, Rating | Number | FreeText):
        _scalar(c, control, value)
    elif isinstance(control, Spans):
        regions.check_spans(c, value, item, text, control.overlap)
    elif isinstance(control, Relations):
        spans = result.get(control.spans)
        ids = (
            {str(s["id"]) for s in spans if isinstance(s, Mapping) and "id" in s}
            if isinstance(spans, list)
            else set()
        )
        regions.check_relations(c, value, ids, control.directed)
    elif isinstance(control, Boxes | RotatedBoxes):
        regions.check_boxes(c, value, item, rotated=isinstance(control, RotatedBoxes))
    elif isinstance(control, Polygons):
        regions.check_polygons(c, value, item)
    elif isinstance(control, Keypoints):
        regions.check_keypoints(c, value, item, control.points)
    elif isinstance(control, Masks):
        regions.check_masks(c, value, item)
    elif isinstance(control, Segments):
        regions.check_segments(c, value, item, control.overlap)
    elif isinstance(control, VideoTracks):
        regions.check_tracks(c, value, item)
    elif isinstance(control, Ranking):
        _ranking(c, control, value, item, schema)
    elif isinstance(control, Pairwise):
        allowed = ("left", "right", "tie") if control.allow_tie else ("left", "right")
        if not isinstance(value, str) or value not in allowed:
            c.fail(
                "unknown_label",
                f"{value!r} is not a choice: expected {' or '.join(map(repr, allowed))}",
            )


def _hint(schema: LabelingSchema, control: Control) -> Callable[[str], str]:
    """What to add to "not a label of this control": the full path of a nested label, or the
    controls the label belongs to."""

    def hint(label: str) -> str:
        own = schema.label_set(control.name)
        paths = sorted(p for p in own if p.rsplit("/", 1)[-1] == label)
        if paths:
            return f"; nested labels are written as paths: {', '.join(map(repr, paths))}"
        others = [n for n in schema.controls if n != control.name and label in schema.label_set(n)]
        if others:
            return f"; it is a label of {', '.join(map(repr, others))}"
        return ""

    return hint


def _absent(value: Any) -> bool:
    return value is None or value == [] or value == ""


def validate_result(
    schema: LabelingSchema, result: Mapping[str, Any], item: ItemContext
) -> dict[str, Any]:
    """The result with absent controls dropped; raises InvalidResult listing every problem."""
    if not isinstance(result, Mapping):
        raise InvalidResult(
            [ResultProblem(None, "type", "the result must be an object of control: value")], item.id
        )
    problems: list[ResultProblem] = []
    clean: dict[str, Any] = {}
    for name, value in result.items():
        if name not in schema.controls:
            problems.append(
                ResultProblem(name, "unknown_control", f"{name!r} is not a control of this schema")
            )
        elif not _absent(value):
            clean[name] = value
    for name, control in schema.controls.items():
        if name not in clean:
            if control.required:
                problems.append(ResultProblem(name, "required", f"{name!r} is required"))
            continue
        _check(schema, control, clean[name], item, result, problems)
    if problems:
        raise InvalidResult(problems, item.id)
    return clean


def labels_of(schema: LabelingSchema, result: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every (control, label) a validated result holds, for indexing annotations by label."""
    return list(_labels(schema, result))


def _labels(schema: LabelingSchema, result: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    for name, value in result.items():
        control = schema.controls.get(name)
        if isinstance(control, Choices):
            for label in value if isinstance(value, list) else [value]:
                yield name, label
        elif isinstance(control, REGION_CONTROLS) and isinstance(value, list):
            for label in dict.fromkeys(r.get("label") for r in value if isinstance(r, Mapping)):
                if isinstance(label, str):
                    yield name, label
        elif isinstance(control, Pairwise) and isinstance(value, str):
            yield name, value


def is_empty(result: Mapping[str, Any]) -> bool:
    return all(_absent(v) for v in result.values())
