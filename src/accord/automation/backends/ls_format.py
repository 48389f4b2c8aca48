"""Label Studio's formats for one Accord control: the labeling config XML, and results in both
directions (``choices`` and ``labels`` regions).

    <View>
      <Text name="text" value="$text"/>
      <Choices name="sentiment" toName="text" choice="single">
        <Choice value="positive"/><Choice value="negative"/>
      </Choices>
    </View>

A choice region ``{"from_name": "sentiment", "to_name": "text", "type": "choices", "value":
{"choices": ["positive"]}}`` is the Accord value ``"positive"``; a labels region ``{"type":
"labels", "value": {"start": 0, "end": 4, "text": "Anna", "labels": ["PER"]}}`` is the span
``{"label": "PER", "start": 0, "end": 4, "text": "Anna"}``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from accord.automation.backends.base import BackendError, BackendSpec
from accord.automation.backends.remote import bad, expect

# Accord field type -> Label Studio object tag, for choices; spans need plain text.
OBJECT_TAGS = {
    "text": "Text",
    "html": "HyperText",
    "image": "Image",
    "audio": "Audio",
    "video": "Video",
}
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class LabelConfig:
    """The XML and the names that results use."""

    xml: str
    from_name: str
    """The control tag's name: the Accord control."""
    to_name: str
    """The object tag's name: the Accord field (renamed if it clashes with the control)."""
    data_key: str
    """The key of task ``data`` that the object tag reads (``value="$data_key"``)."""


def _field_of(spec: BackendSpec) -> tuple[str, str]:
    """(name, type) of the field the control labels, from the schema when there is one."""
    control = spec.control_definition()
    name = control.get("field") if control else None
    for f in (spec.schema or {}).get("fields", ()):
        if isinstance(f, Mapping) and f.get("name") == name:
            return str(name), str(f.get("type", "text"))
    return (str(name) if isinstance(name, str) else spec.field), "text"


def label_config(spec: BackendSpec) -> LabelConfig:
    """The Label Studio labeling config of the control; BackendError for control types other
    than ``choices`` and ``spans`` and for spans over anything but text."""
    field_name, field_type = _field_of(spec)
    if spec.control_type == "choices":
        tag = OBJECT_TAGS.get(field_type)
    elif spec.control_type == "spans":
        tag = "Text" if field_type == "text" else None
    else:
        raise BackendError(
            "the Label Studio adapter answers choices and spans controls, not "
            f"{spec.control_type!r} ({spec.control!r})",
            field="control",
            rule="unsupported_control_type",
        )
    if tag is None:
        raise BackendError(
            f"the Label Studio adapter cannot label a {field_type} field with "
            f"{spec.control_type} ({spec.control!r})",
            field="control",
            rule="unsupported_field_type",
        )
    if not spec.labels:
        raise BackendError(f"{spec.control!r} has no labels", field="control", rule="no_labels")
    to_name = field_name if IDENTIFIER.match(field_name) else "field"
    if to_name == spec.control:
        to_name += "_input"
    data_key = spec.field if IDENTIFIER.match(spec.field) else to_name
    view = ET.Element("View")
    ET.SubElement(view, tag, {"name": to_name, "value": f"${data_key}"})
    if spec.control_type == "choices":
        choice = "multiple" if spec.multiple else "single"
        control = ET.SubElement(
            view, "Choices", {"name": spec.control, "toName": to_name, "choice": choice}
        )
        for label in spec.labels:
            ET.SubElement(control, "Choice", {"value": label})
    else:
        control = ET.SubElement(view, "Labels", {"name": spec.control, "toName": to_name})
        for label in spec.labels:
            ET.SubElement(control, "Label", {"value": label})
    return LabelConfig(ET.tostring(view, encoding="unicode"), spec.control, to_name, data_key)


def to_ls_result(spec: BackendSpec, config: LabelConfig, value: Any) -> list[dict[str, Any]]:
    """An Accord control value as Label Studio regions (empty when there is no usable value)."""
    base = {"from_name": config.from_name, "to_name": config.to_name, "origin": "manual"}
    if spec.control_type == "choices":
        labels = value if isinstance(value, list) else [value]
        labels = [v for v in labels if isinstance(v, str)]
        if not labels:
            return []
        return [{"id": "accord-0", **base, "type": "choices", "value": {"choices": labels}}]
    regions = []
    for i, span in enumerate(value if isinstance(value, list) else []):
        if not isinstance(span, Mapping):
            continue
        region_value = {
            "start": span.get("start"),
            "end": span.get("end"),
            "text": span.get("text"),
            "labels": [span.get("label")],
        }
        region_id = span.get("id")
        regions.append(
            {
                "id": str(region_id) if region_id is not None else f"accord-{i}",
                **base,
                "type": "labels",
                "value": region_value,
            }
        )
    return regions


def from_ls_result(spec: BackendSpec, regions: Any, where: str) -> tuple[Any, float | None]:
    """The Accord value held by the regions of this control (None: none of them answers it) and
    the highest region score. Regions of other controls are ignored."""
    expect(regions, list, where, "a list of regions")
    mine: list[tuple[str, Mapping[str, Any]]] = []
    for i, region in enumerate(regions):
        at = f"{where}[{i}]"
        expect(region, dict, at, "an object")
        if region.get("from_name") == spec.control:
            mine.append((at, region))
    if not mine:
        return None, None
    scores = [score_of(region.get("score")) for _, region in mine]
    known = [s for s in scores if s is not None]
    score = max(known) if known else None
    if spec.control_type == "choices":
        chosen: list[Any] = []
        for at, region in mine:
            value = expect(region.get("value"), dict, f"{at}.value", "an object")
            choices = expect(value.get("choices"), list, f"{at}.value.choices", "a list")
            chosen.extend(choices)
        if spec.multiple:
            return list(dict.fromkeys(chosen)), score
        if len(set(map(str, chosen))) != 1:
            raise bad(
                where,
                f"chooses {len(set(map(str, chosen)))} labels for the single choice "
                f"{spec.control!r}",
                "single_choice",
            )
        return chosen[0], score
    spans = []
    for at, region in mine:
        value = expect(region.get("value"), dict, f"{at}.value", "an object")
        labels = expect(value.get("labels"), list, f"{at}.value.labels", "a list of labels")
        for label in labels:
            span = {
                "label": label,
                "start": value.get("start"),
                "end": value.get("end"),
                "text": value.get("text"),
            }
            if region.get("id") is not None and len(labels) == 1:
                span["id"] = region["id"]
            spans.append(span)
    return spans, score


def score_of(value: Any) -> float | None:
    """Label Studio does not fix a score's range: scores outside [0, 1] are not confidences and
    are dropped rather than rejected."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if 0 <= value <= 1 else None
