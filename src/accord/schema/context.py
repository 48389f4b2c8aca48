"""What result validation needs to know about the item being annotated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MediaInfo:
    width: float | None = None
    height: float | None = None
    duration: float | None = None
    frame_count: int | None = None
    fps: float | None = None


@dataclass(frozen=True)
class ItemContext:
    id: int | None
    data: Mapping[str, Any]
    media: MediaInfo | None = None
