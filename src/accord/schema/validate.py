"""Server-side validation of annotation results against a schema; labels of a result."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
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
        if not isinstance(value, str):
            c.fail("type", "expected one label (a string)")
        elif value not in c.labels:
            c.fail("unknown_label", f"{value!r} is not a label of this control")
        return
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        c.fail("type", "expected a list of labels")
        return
    for i, v in enumerate(value):
        if v not in c.labels:
            c.fail("unknown_label", f"{v!r} is not a label of this control", f"[{i}]")
    if len(set(value)) != len(value):
        c.fail("duplicate_label", "a label is selected twice")
    if control.min_selected is not None and len(value) < control.min_selected:
        c.fail("min_selected", f"select at least {control.min_selected}")
    if control.max_selected is not None and len(value) > control.max_selected:
        c.fail("max_selected", f"select at most {control.max_selected}")


def _scalar(c: regions.Checker, control: Rating | Number | FreeText, value: Any) -> None:
    if isinstance(control, Rating):
        if not isinstance(value, int) or isinstance(value, bool):
            c.fail("not_integer", "a rating is a whole number")
        elif not 1 <= value <= control.max:
            c.fail("out_of_range", f"rating must be 1 to {control.max}")
    elif isinstance(control, Number):
        if not regions.is_number(value):
            c.fail("type", "expected a number")
            return
        if control.integer and value != int(value):
            c.fail("not_integer", "expected a whole number")
        if (control.min is not None and value < control.min) or (
            control.max is not None and value > control.max
        ):
            c.fail("out_of_range", f"must be between {control.min} and {control.max}")
    else:
        if not isinstance(value, str):
            c.fail("type", "expected text")
            return
        if control.max_length is not None and len(value) > control.max_length:
            c.fail("too_long", f"at most {control.max_length} characters")
        if control.pattern and not _pattern(control.pattern).fullmatch(value):
            c.fail("pattern", f"does not match {control.pattern!r}")


def _ranking(
    c: regions.Checker, control: Ranking, value: Any, item: ItemContext, schema: LabelingSchema
) -> None:
    if control.options:
        options: list[Any] = list(control.options)
    else:
        listed = item.data.get(schema.fields[control.field].key)
        options = list(range(len(listed))) if isinstance(listed, list) else []
    if (
        not isinstance(value, list)
        or sorted(map(str, value)) != sorted(map(str, options))
        or len(value) != len(options)
    ):
        c.fail("not_permutation", f"expected an ordering of all {len(options)} options")


def _check(
    schema: LabelingSchema,
    control: Control,
    value: Any,
    item: ItemContext,
    result: Mapping[str, Any],
    problems: list[ResultProblem],
) -> None:
    c = regions.Checker(control.name, schema.label_set(control.name), problems)
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
        if value not in allowed:
            c.fail("unknown_label", f"expected one of {', '.join(allowed)}")


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
