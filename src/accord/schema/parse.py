"""Reading a schema document (YAML, JSON or a mapping) into a checked LabelingSchema."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from accord.errors import SchemaError
from accord.schema.model import (
    Boxes,
    Choices,
    Control,
    FreeText,
    Keypoints,
    Label,
    Masks,
    Number,
    Pairwise,
    Polygons,
    Relations,
    RotatedBoxes,
    SchemaDocument,
    SchemaField,
    Segments,
    Spans,
    VideoTracks,
)

# Which field types each region control may be bound to; the others accept any field.
BINDINGS: dict[type, tuple[str, ...]] = {
    Spans: ("text",),
    Relations: ("text",),
    Boxes: ("image",),
    RotatedBoxes: ("image",),
    Polygons: ("image",),
    Keypoints: ("image",),
    Masks: ("image",),
    Segments: ("audio", "video", "timeseries"),
    VideoTracks: ("video",),
}

_ADAPTER = TypeAdapter(SchemaDocument)


class LabelingSchema:
    """A validated schema with fast lookups for result validation."""

    def __init__(self, document: SchemaDocument) -> None:
        self.document = document
        self.fields: dict[str, SchemaField] = {f.name: f for f in document.fields}
        self.controls: dict[str, Control] = {c.name: c for c in document.controls}
        self._labels: dict[str, frozenset[str]] = {
            c.name: frozenset(label_paths(getattr(c, "labels", ()))) for c in document.controls
        }

    def control(self, name: str) -> Control:
        return self.controls[name]

    def labels(self, control: str) -> list[str]:
        return sorted(self._labels[control])

    def label_set(self, control: str) -> frozenset[str]:
        return self._labels[control]

    def field_of(self, control: Control) -> SchemaField:
        return self.fields[control.field]

    def to_dict(self) -> dict[str, Any]:
        return self.document.to_dict()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LabelingSchema) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))


def label_paths(labels: tuple[Label, ...], prefix: str = "") -> Iterator[str]:
    """Every label as its path from the root ('animal', 'animal/dog'): inner nodes count too."""
    for label in labels:
        path = f"{prefix}{label.value}"
        yield path
        yield from label_paths(label.children, path + "/")


def _walk_labels(labels: tuple[Label, ...]) -> Iterator[Label]:
    for label in labels:
        yield label
        yield from _walk_labels(label.children)


def _labels(values: Any) -> Any:
    """Labels may be written as plain strings (or numbers); make them objects."""
    if not isinstance(values, list):
        return values
    out = []
    for v in values:
        if isinstance(v, str | int | float) and not isinstance(v, bool):
            out.append({"value": str(v)})
        elif isinstance(v, Mapping):
            label = dict(v)
            if isinstance(label.get("value"), int | float) and not isinstance(label["value"], bool):
                label["value"] = str(label["value"])
            if "children" in label:
                label["children"] = _labels(label["children"])
            out.append(label)
        else:
            out.append(v)
    return out


def _normalise(raw: Mapping[str, Any]) -> dict[str, Any]:
    doc = dict(raw)
    if isinstance(doc.get("controls"), list):
        doc["controls"] = [
            dict(c, labels=_labels(c["labels"])) if isinstance(c, Mapping) and "labels" in c else c
            for c in doc["controls"]
        ]
    return doc


def _loc(parts: tuple[int | str, ...], raw: Mapping[str, Any]) -> str:
    """'controls.sentiment.labels[2]' rather than 'controls.0.labels.2'."""
    out = ""
    node: Any = raw
    for i, part in enumerate(parts):
        if isinstance(part, int):
            named = isinstance(node, list) and part < len(node) and isinstance(node[part], Mapping)
            name = node[part].get("name") if named else None
            if i == 1 and isinstance(name, str):
                out += f".{name}"
            else:
                out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
        elif (
            part
            in (
                "choices",
                "rating",
                "number",
                "text",
                "spans",
                "relations",
                "boxes",
                "rotated_boxes",
                "polygons",
                "keypoints",
                "masks",
                "segments",
                "video_tracks",
                "ranking",
                "pairwise",
            )
            and i == 2
        ):
            continue  # the discriminator's own level adds nothing for a reader
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, Mapping) else None
    return out


def _load(source: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(source, Mapping):
        return source
    text = source.decode() if isinstance(source, bytes) else source
    try:
        raw = yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise SchemaError(
            f"the schema is not valid YAML or JSON{where}", [{"loc": "", "msg": str(exc)}]
        ) from exc
    if not isinstance(raw, Mapping):
        raise SchemaError(
            "the schema must be a mapping with 'fields' and 'controls'",
            [{"loc": "", "msg": "not a mapping"}],
        )
    return raw


def _cross_checks(doc: SchemaDocument) -> list[dict[str, str]]:
    problems: list[dict[str, str]] = []
    fields = {f.name: f for f in doc.fields}
    names: set[str] = set()
    for f in doc.fields:
        if f.name in names:
            problems.append(
                {"loc": f"fields.{f.name}", "msg": f"the name {f.name!r} is used twice"}
            )
        names.add(f.name)
    hotkeys: dict[str, str] = {}
    controls = {c.name: c for c in doc.controls}
    for c in doc.controls:
        where = f"controls.{c.name}"
        if c.name in names:
            problems.append({"loc": where, "msg": f"the name {c.name!r} is used twice"})
        names.add(c.name)
        bound = (c.left, c.right) if isinstance(c, Pairwise) else (c.field,)
        for name in bound:
            if name not in fields:
                problems.append(
                    {
                        "loc": f"{where}.field",
                        "msg": f"control {c.name!r} refers to unknown field {name!r}",
                    }
                )
        allowed = BINDINGS.get(type(c))
        if allowed and c.field in fields and fields[c.field].type not in allowed:
            problems.append(
                {
                    "loc": f"{where}.field",
                    "msg": f"{c.type} control {c.name!r} needs a field of type"
                    f" {' or '.join(allowed)}, "
                    f"but {c.field!r} is {fields[c.field].type}",
                }
            )
        labels = tuple(_walk_labels(getattr(c, "labels", ())))
        seen: set[str] = set()
        for path in label_paths(getattr(c, "labels", ())):
            if path in seen:
                problems.append(
                    {"loc": f"{where}.labels", "msg": f"label {path!r} appears twice in {c.name!r}"}
                )
            seen.add(path)
        for label in labels:
            if label.hotkey is None:
                continue
            key = label.hotkey.lower()
            if key in hotkeys:
                problems.append(
                    {
                        "loc": f"{where}.labels",
                        "msg": f"hotkey {label.hotkey!r} of {c.name}:{label.value}"
                        f" is already used by {hotkeys[key]}",
                    }
                )
            hotkeys[key] = f"{c.name}:{label.value}"
        if (
            isinstance(c, Choices)
            and c.min_selected
            and c.max_selected
            and c.min_selected > c.max_selected
        ):
            problems.append({"loc": where, "msg": "min_selected is larger than max_selected"})
        if isinstance(c, Relations):
            target = controls.get(c.spans)
            if not isinstance(target, Spans):
                problems.append(
                    {"loc": f"{where}.spans", "msg": f"{c.spans!r} is not a spans control"}
                )
            elif target.field != c.field:
                problems.append(
                    {
                        "loc": f"{where}.field",
                        "msg": f"relations must be on the field of {c.spans!r} ({target.field!r})",
                    }
                )
        if isinstance(c, Keypoints):
            if len(set(c.points)) != len(c.points):
                problems.append({"loc": f"{where}.points", "msg": "point names must be unique"})
            for a, b in c.skeleton:
                for p in (a, b):
                    if p not in c.points:
                        problems.append(
                            {
                                "loc": f"{where}.skeleton",
                                "msg": f"skeleton names unknown point {p!r}",
                            }
                        )
        if isinstance(c, Number) and c.min is not None and c.max is not None and c.min > c.max:
            problems.append({"loc": where, "msg": "min is larger than max"})
        if isinstance(c, FreeText) and c.pattern:
            try:
                re.compile(c.pattern)
            except re.error as exc:
                problems.append(
                    {"loc": f"{where}.pattern", "msg": f"not a regular expression: {exc}"}
                )
    return problems


def parse_schema(source: str | bytes | Mapping[str, Any]) -> LabelingSchema:
    raw = _normalise(_load(source))
    try:
        doc = _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        errors = exc.errors()
        locs = [tuple(e["loc"]) for e in errors]
        # A failing element also empties its list; that consequence is noise beside the cause.
        errors = [
            e
            for e, loc in zip(errors, locs, strict=True)
            if not (
                e["type"] == "too_short" and any(o[: len(loc)] == loc and o != loc for o in locs)
            )
        ]
        details = [
            {"loc": _loc(tuple(e["loc"]), raw), "msg": e["msg"].removeprefix("Value error, ")}
            for e in errors
        ]
        first = details[0]
        raise SchemaError(
            f"{first['loc']}: {first['msg']}" if first["loc"] else first["msg"], details
        ) from None
    problems = _cross_checks(doc)
    if problems:
        raise SchemaError(f"{problems[0]['loc']}: {problems[0]['msg']}", problems)
    return LabelingSchema(doc)
