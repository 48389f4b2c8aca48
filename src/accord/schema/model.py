"""The schema document: fields (what is shown) and controls (what is asked), as pydantic models."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
COLOR = r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$"

FieldType = Literal["text", "image", "audio", "video", "html", "timeseries", "dialogue"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(Strict):
    value: str = Field(min_length=1, max_length=500)
    hotkey: str | None = Field(default=None, min_length=1, max_length=1)
    color: str | None = None
    description: str | None = None
    children: tuple[Label, ...] = ()

    @field_validator("color")
    @classmethod
    def _hex_color(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(COLOR, value):
            raise ValueError(f"colour {value!r} must be a hex colour such as #1f77b4")
        return value

    @field_validator("value")
    @classmethod
    def _no_slash(cls, value: str) -> str:
        if "/" in value:
            raise ValueError("a label may not contain '/', which separates hierarchy levels")
        return value


class SchemaField(Strict):
    name: str = Field(pattern=NAME)
    type: FieldType
    source: str | None = Field(default=None, description="Key of item.data; default: the name.")

    @property
    def key(self) -> str:
        return self.source or self.name


class ControlBase(Strict):
    name: str = Field(pattern=NAME)
    field: str
    required: bool = False
    description: str | None = None


class LabeledControl(ControlBase):
    labels: tuple[Label, ...] = Field(min_length=1)


class Choices(LabeledControl):
    type: Literal["choices"]
    multiple: bool = False
    min_selected: int | None = Field(default=None, ge=0)
    max_selected: int | None = Field(default=None, ge=1)


class Rating(ControlBase):
    type: Literal["rating"]
    max: int = Field(default=5, ge=2, le=100)


class Number(ControlBase):
    type: Literal["number"]
    min: float | None = None
    max: float | None = None
    integer: bool = False


class FreeText(ControlBase):
    type: Literal["text"]
    max_length: int | None = Field(default=None, ge=1)
    pattern: str | None = None


class Spans(LabeledControl):
    type: Literal["spans"]
    overlap: bool = False


class Relations(LabeledControl):
    type: Literal["relations"]
    spans: str
    directed: bool = True


class Boxes(LabeledControl):
    type: Literal["boxes"]


class RotatedBoxes(LabeledControl):
    type: Literal["rotated_boxes"]


class Polygons(LabeledControl):
    type: Literal["polygons"]


class Keypoints(ControlBase):
    type: Literal["keypoints"]
    points: tuple[str, ...] = Field(min_length=1)
    skeleton: tuple[tuple[str, str], ...] = ()
    labels: tuple[Label, ...] = ()


class Masks(LabeledControl):
    type: Literal["masks"]


class Segments(LabeledControl):
    type: Literal["segments"]
    overlap: bool = True


class VideoTracks(LabeledControl):
    type: Literal["video_tracks"]


class Ranking(ControlBase):
    type: Literal["ranking"]
    options: tuple[str, ...] = ()


class Pairwise(ControlBase):
    type: Literal["pairwise"]
    field: str = Field(default="", description="Unused: pairwise is bound to left and right.")
    left: str
    right: str
    allow_tie: bool = False


Control = Annotated[
    Choices
    | Rating
    | Number
    | FreeText
    | Spans
    | Relations
    | Boxes
    | RotatedBoxes
    | Polygons
    | Keypoints
    | Masks
    | Segments
    | VideoTracks
    | Ranking
    | Pairwise,
    Field(discriminator="type"),
]


class SchemaDocument(Strict):
    title: str | None = None
    description: str | None = None
    fields: tuple[SchemaField, ...] = Field(min_length=1)
    controls: tuple[Control, ...] = Field(min_length=1)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_defaults=True, exclude_none=True)
