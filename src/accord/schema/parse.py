"""Reading a schema document (YAML, JSON or a mapping) into a checked LabelingSchema."""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Iterator, Mapping
from typing import Any, get_args

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
    Ranking,
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


# The control types, as the discriminated union in model.py names them.
CONTROL_TYPES = frozenset(
    get_args(cls.model_fields["type"].annotation)[0] for cls in get_args(get_args(Control)[0])
)


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
        elif part in CONTROL_TYPES and i == 2:
            continue  # the discriminator's own level adds nothing for a reader
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, Mapping) else None
    return out


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


class _Loader(yaml.SafeLoader):
    """Safe YAML that refuses a key given twice in one mapping (YAML would keep the last one
    silently) and aliases (``*name``, which can blow a small text up into a huge document)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (&name, *name) are not supported", event.start_mark
            )
        return super().compose_node(parent, index)


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, Hashable):
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} appears twice", key_node.start_mark
                )
            seen.add(key)
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _load(source: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(source, Mapping):
        return source
    try:
        text = (
            source.decode("utf-8-sig")
            if isinstance(source, bytes)
            else source.removeprefix("\ufeff")
        )
    except UnicodeDecodeError as exc:
        raise SchemaError(
            f"the schema is not UTF-8 text (byte {exc.start})", [{"loc": "", "msg": exc.reason}]
        ) from None
    raw: Any
    try:
        # JSON first: YAML reads most JSON, but not JSON indented with tabs.
        raw = json.loads(text, object_pairs_hook=_json_object)
    except _DuplicateKey as exc:
        msg = f"the key {exc.key!r} appears twice in one object"
        raise SchemaError(f"the schema is not valid: {msg}", [{"loc": "", "msg": msg}]) from None
    except ValueError as json_error:
        try:
            raw = yaml.load(text, Loader=_Loader)  # a SafeLoader: builds plain data only
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            if text.lstrip().startswith(("{", "[")) and isinstance(
                json_error, json.JSONDecodeError
            ):
                where = f" at line {json_error.lineno}, column {json_error.colno}"
                msg = json_error.msg
            else:
                where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
                msg = str(getattr(exc, "problem", None) or exc)
            raise SchemaError(
                f"the schema is not valid YAML or JSON{where}: {msg}", [{"loc": "", "msg": msg}]
            ) from None
    if not isinstance(raw, Mapping):
        raise SchemaError(
            "the schema must be a mapping with 'fields' and 'controls'",
            [{"loc": "", "msg": "not a mapping"}],
        )
    return raw


def _indexed_labels(
    labels: tuple[Label, ...], prefix: str = "", loc: str = "labels"
) -> Iterator[tuple[str, str, Label]]:
    """(path, location, label) of every label: ('a/b', 'labels[0].children[1]', ...)."""
    for i, label in enumerate(labels):
        path, where = f"{prefix}{label.value}", f"{loc}[{i}]"
        yield path, where, label
        yield from _indexed_labels(label.children, path + "/", f"{where}.children")


def _cross_checks(doc: SchemaDocument) -> list[dict[str, str]]:
    problems: list[dict[str, str]] = []

    def problem(loc: str, msg: str) -> None:
        problems.append({"loc": loc, "msg": msg})

    fields: dict[str, SchemaField] = {}
    for i, f in enumerate(doc.fields):
        if f.name in fields:
            problem(f"fields[{i}].name", f"the field name {f.name!r} is used twice")
        fields.setdefault(f.name, f)
    hotkeys: dict[str, str] = {}
    controls: dict[str, Control] = {}
    for i, c in enumerate(doc.controls):
        where = f"controls.{c.name}"
        if c.name in controls:
            problem(f"controls[{i}].name", f"the control name {c.name!r} is used twice")
            where = f"controls[{i}]"
        elif c.name in fields:
            problem(f"{where}.name", f"{c.name!r} is already the name of a field")
        controls.setdefault(c.name, c)
        bound = (
            (("left", c.left), ("right", c.right))
            if isinstance(c, Pairwise)
            else (("field", c.field),)
        )
        for key, name in bound:
            if name not in fields:
                problem(f"{where}.{key}", f"control {c.name!r} refers to unknown field {name!r}")
        allowed = BINDINGS.get(type(c))
        if allowed and c.field in fields and fields[c.field].type not in allowed:
            problem(
                f"{where}.field",
                f"{c.type} control {c.name!r} needs a field of type {' or '.join(allowed)}, "
                f"but {c.field!r} is {fields[c.field].type}",
            )
        seen: set[str] = set()
        for path, loc, label in _indexed_labels(getattr(c, "labels", ())):
            if path in seen:
                problem(f"{where}.{loc}", f"label {path!r} appears twice in {c.name!r}")
            seen.add(path)
            if label.hotkey is None:
                continue
            key = label.hotkey.lower()
            if key in hotkeys:
                problem(
                    f"{where}.{loc}.hotkey",
                    f"hotkey {label.hotkey!r} of {c.name}:{path} is already used by {hotkeys[key]}",
                )
            else:
                hotkeys[key] = f"{c.name}:{path}"
        if isinstance(c, Choices):
            if not c.multiple:
                for option in ("min_selected", "max_selected"):
                    if getattr(c, option) is not None:
                        problem(f"{where}.{option}", f"{option} needs multiple: true")
            elif (
                c.min_selected is not None
                and c.max_selected is not None
                and c.min_selected > c.max_selected
            ):
                problem(
                    f"{where}.min_selected",
                    f"min_selected ({c.min_selected}) is larger than"
                    f" max_selected ({c.max_selected})",
                )
        if isinstance(c, Relations):
            target = next((t for t in doc.controls if t.name == c.spans), None)
            if not isinstance(target, Spans):
                problem(f"{where}.spans", f"{c.spans!r} is not a spans control")
            elif target.field != c.field:
                problem(
                    f"{where}.field",
                    f"relations must be on the field of {c.spans!r} ({target.field!r})",
                )
        if isinstance(c, Keypoints):
            named: set[str] = set()
            for j, point in enumerate(c.points):
                if point in named:
                    problem(f"{where}.points[{j}]", f"point name {point!r} is used twice")
                named.add(point)
            for j, pair in enumerate(c.skeleton):
                for k, point in enumerate(pair):
                    if point not in c.points:
                        problem(
                            f"{where}.skeleton[{j}][{k}]",
                            f"the skeleton names unknown point {point!r}",
                        )
        if isinstance(c, Number) and c.min is not None and c.max is not None and c.min > c.max:
            problem(f"{where}.min", f"min ({c.min:g}) is larger than max ({c.max:g})")
        if isinstance(c, FreeText) and c.pattern:
            try:
                re.compile(c.pattern)
            except re.error as exc:
                problem(f"{where}.pattern", f"not a regular expression: {exc}")
        if isinstance(c, Ranking) and len(set(c.options)) != len(c.options):
            problem(f"{where}.options", "ranking options must be unique")
    return problems


def _message(error: Any) -> str:
    value = error.get("input")
    if "labels" in error["loc"] and (value is None or isinstance(value, bool)):
        word = "null" if value is None else str(value).lower()
        return (
            f"a label must be text, not {word}: YAML reads unquoted yes, no, on, off, true, false"
            " and null as booleans or nothing, so put such a label in quotes"
        )
    msg: str = error["msg"]
    return msg.removeprefix("Value error, ")


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
        details = [{"loc": _loc(tuple(e["loc"]), raw), "msg": _message(e)} for e in errors]
        first = details[0]
        raise SchemaError(
            f"{first['loc']}: {first['msg']}" if first["loc"] else first["msg"], details
        ) from None
    problems = _cross_checks(doc)
    if problems:
        raise SchemaError(f"{problems[0]['loc']}: {problems[0]['msg']}", problems)
    return LabelingSchema(doc)
