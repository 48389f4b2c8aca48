"""Checks of region results (spans, boxes, polygons, keypoints, masks, segments, tracks).

Plain Python over the JSON values: this runs on every submit, so no models are built per region.
Each checker appends ResultProblem(control, rule, message, path) for every problem it finds.
Coordinates are natural media pixels (x to the right, y down, origin at the top-left corner).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

from accord.errors import ResultProblem
from accord.schema.context import ItemContext

Problems = list[ResultProblem]
Number = int | float

# How far (in pixels) a point may lie outside the image and still count as inside: clients round
# coordinates (to 0.01 px) and turn rotated boxes with floating point, so an edge drawn exactly on
# the border can land a hair outside it.
PIXEL_TOLERANCE = 0.5
# The same for times (seconds) against the media duration.
TIME_TOLERANCE = 1e-3


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


class Checker:
    """Collects the problems of one control's value."""

    def __init__(
        self,
        control: str,
        labels: frozenset[str],
        problems: Problems,
        hint: Callable[[str], str] | None = None,
    ) -> None:
        self.control = control
        self.labels = labels
        self.problems = problems
        self.hint = hint

    def fail(self, rule: str, message: str, path: str = "") -> None:
        self.problems.append(ResultProblem(self.control, rule, message, path))

    def unknown_label(self, label: str, path: str) -> None:
        extra = self.hint(label) if self.hint else ""
        self.fail("unknown_label", f"{label!r} is not a label of this control{extra}", path)

    def regions(self, value: Any) -> list[Mapping[str, Any]]:
        if not isinstance(value, list):
            self.fail("type", f"expected a list of regions, got {type(value).__name__}")
            return []
        ok = []
        for i, region in enumerate(value):
            if isinstance(region, Mapping):
                ok.append(region)
            else:
                self.fail("type", f"region {i} must be an object", f"[{i}]")
        return ok

    def label(self, region: Mapping[str, Any], path: str, required: bool = True) -> None:
        label = region.get("label")
        if label is None and not required:
            return
        if not isinstance(label, str):
            self.fail("type", "label must be a string", f"{path}.label")
        elif label not in self.labels:
            self.unknown_label(label, f"{path}.label")

    def numbers(self, region: Mapping[str, Any], keys: tuple[str, ...], path: str) -> bool:
        good = True
        for key in keys:
            if not is_number(region.get(key)):
                self.fail("type", f"{key} must be a finite number", f"{path}.{key}")
                good = False
        return good

    def unique_ids(self, regions: list[Mapping[str, Any]]) -> set[str]:
        ids: set[str] = set()
        for i, region in enumerate(regions):
            rid = region.get("id")
            if rid is None:
                continue
            if not isinstance(rid, str | int) or isinstance(rid, bool):
                self.fail("type", "id must be a string or an integer", f"[{i}].id")
                continue
            if str(rid) in ids:
                self.fail("duplicate_id", f"id {rid!r} is used twice", f"[{i}].id")
            ids.add(str(rid))
        return ids

    def inside(self, points: list[tuple[Number, Number]], item: ItemContext, path: str) -> None:
        """One outside_image problem if any point lies outside the image (or is negative when
        the image size is unknown)."""
        media = item.media
        width = media.width if media else None
        height = media.height if media else None
        tol = PIXEL_TOLERANCE
        for x, y in points:
            if x < -tol or y < -tol:
                self.fail("outside_image", f"point ({x:g}, {y:g}) has a negative coordinate", path)
                return
            if (width is not None and x > width + tol) or (height is not None and y > height + tol):
                self.fail(
                    "outside_image",
                    f"point ({x:g}, {y:g}) lies outside the {_size(width)}x{_size(height)} image",
                    path,
                )
                return


def _size(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _overlaps(placed: list[tuple[Number, Number, int]]) -> list[int]:
    """Indexes of the regions that start before an earlier-starting region has ended."""
    found: list[int] = []
    reach = -math.inf
    for start, end, index in sorted(placed):
        if start < reach:
            found.append(index)
        reach = max(reach, end)
    return sorted(found)


def check_spans(c: Checker, value: Any, item: ItemContext, text: Any, overlap: bool) -> None:
    spans = c.regions(value)
    c.unique_ids(spans)
    if not isinstance(text, str):
        c.fail("type", "the field this control labels holds no text")
        return
    placed: list[tuple[Number, Number, int]] = []
    for i, span in enumerate(spans):
        path = f"[{i}]"
        c.label(span, path)
        start, end = span.get("start"), span.get("end")
        if not (is_int(start) and is_int(end)):
            c.fail("type", "start and end must be integers (character offsets)", path)
            continue
        if start < 0 or end > len(text):
            c.fail(
                "span_out_of_range",
                f"span {start}-{end} is outside the text (length {len(text)})",
                path,
            )
            continue
        if end <= start:
            c.fail("end_before_start", f"span {start}-{end} ends before it starts", path)
            continue
        claimed = span.get("text")
        if claimed is not None and claimed != text[start:end]:
            c.fail(
                "span_text_mismatch",
                f"text {claimed!r} is not what stands at {start}-{end} ({text[start:end]!r})",
                f"{path}.text",
            )
        placed.append((start, end, i))
    if not overlap:
        for j in _overlaps(placed):
            c.fail("span_overlap", "spans overlap, which this control does not allow", f"[{j}]")


def check_relations(c: Checker, value: Any, span_ids: set[str], directed: bool) -> None:
    relations = c.regions(value)
    c.unique_ids(relations)
    seen: set[tuple[str, str, str]] = set()
    for i, rel in enumerate(relations):
        path = f"[{i}]"
        c.label(rel, path)
        ends = (rel.get("from"), rel.get("to"))
        for key, rid in zip(("from", "to"), ends, strict=True):
            if rid is None or isinstance(rid, bool) or str(rid) not in span_ids:
                c.fail(
                    "unknown_span",
                    f"{key} refers to span {rid!r}, which is not in the spans",
                    f"{path}.{key}",
                )
        a, b = str(ends[0]), str(ends[1])
        if not directed:
            a, b = min(a, b), max(a, b)
        key3 = (a, b, str(rel.get("label")))
        if key3 in seen:
            c.fail("duplicate_relation", "the same relation is given twice", path)
        seen.add(key3)


def box_corners(
    x: float, y: float, w: float, h: float, rotation: float
) -> list[tuple[float, float]]:
    """Corners of a box turned by ``rotation`` degrees clockwise (y points down) about its
    top-left corner (x, y), as in Label Studio."""
    t = math.radians(rotation)
    cos, sin = math.cos(t), math.sin(t)
    return [
        (x + dx * cos - dy * sin, y + dx * sin + dy * cos)
        for dx, dy in ((0, 0), (w, 0), (w, h), (0, h))
    ]


def check_boxes(c: Checker, value: Any, item: ItemContext, rotated: bool) -> None:
    regions = c.regions(value)
    c.unique_ids(regions)
    keys = ("x", "y", "width", "height", "rotation") if rotated else ("x", "y", "width", "height")
    for i, box in enumerate(regions):
        path = f"[{i}]"
        c.label(box, path)
        if not c.numbers(box, keys, path):
            continue
        x, y, w, h = box["x"], box["y"], box["width"], box["height"]
        if w <= 0 or h <= 0:
            c.fail("not_positive", "width and height must be positive", path)
            continue
        rotation = box["rotation"] if rotated else 0
        c.inside(box_corners(x, y, w, h, rotation), item, path)


def check_polygons(c: Checker, value: Any, item: ItemContext) -> None:
    polygons = c.regions(value)
    c.unique_ids(polygons)
    for i, poly in enumerate(polygons):
        path = f"[{i}]"
        c.label(poly, path)
        points = poly.get("points")
        if not isinstance(points, list) or not all(
            isinstance(p, list | tuple) and len(p) == 2 and is_number(p[0]) and is_number(p[1])
            for p in points
        ):
            c.fail("type", "points must be a list of [x, y] pairs", f"{path}.points")
            continue
        if len(points) < 3:
            c.fail(
                "too_few_points",
                f"a polygon needs at least 3 points, got {len(points)}",
                f"{path}.points",
            )
            continue
        c.inside([(p[0], p[1]) for p in points], item, f"{path}.points")


def check_keypoints(c: Checker, value: Any, item: ItemContext, names: tuple[str, ...]) -> None:
    known = set(names)
    instances = c.regions(value)
    c.unique_ids(instances)
    for i, instance in enumerate(instances):
        path = f"[{i}]"
        c.label(instance, path, required=False)
        points = instance.get("points")
        if not isinstance(points, Mapping):
            c.fail("type", "points must map point names to {x, y}", f"{path}.points")
            continue
        for name, point in points.items():
            where = f"{path}.points.{name}"
            if name not in known:
                c.fail(
                    "unknown_point",
                    f"{name!r} is not a point of this control ({', '.join(names)})",
                    where,
                )
            elif point is not None:
                if not isinstance(point, Mapping):
                    c.fail("type", "a point is {x, y} or null (not visible)", where)
                elif c.numbers(point, ("x", "y"), where):
                    c.inside([(point["x"], point["y"])], item, where)


def check_masks(c: Checker, value: Any, item: ItemContext) -> None:
    masks = c.regions(value)
    c.unique_ids(masks)
    for i, mask in enumerate(masks):
        path = f"[{i}]"
        c.label(mask, path)
        rle = mask.get("rle")
        if not isinstance(rle, Mapping):
            c.fail(
                "type",
                "rle must be an object {size: [height, width], counts: [...]}",
                f"{path}.rle",
            )
            continue
        size, counts = rle.get("size"), rle.get("counts")
        if not (
            isinstance(size, list) and len(size) == 2 and all(is_int(s) and s > 0 for s in size)
        ):
            c.fail("type", "rle.size must be [height, width] in pixels", f"{path}.rle.size")
            continue
        media = item.media
        if (
            media
            and media.width is not None
            and media.height is not None
            and (size[0], size[1]) != (media.height, media.width)
        ):
            c.fail(
                "mask_size",
                f"mask is {size[1]}x{size[0]} but the image is {media.width:g}x{media.height:g}",
                f"{path}.rle.size",
            )
        if not isinstance(counts, list) or not all(is_int(n) and n >= 0 for n in counts):
            c.fail(
                "mask_counts",
                "rle.counts must be a list of non-negative integers",
                f"{path}.rle.counts",
            )
        elif sum(counts) != size[0] * size[1]:
            c.fail(
                "mask_counts",
                f"rle.counts add up to {sum(counts)}, not height*width = {size[0] * size[1]}",
                f"{path}.rle.counts",
            )


def check_segments(c: Checker, value: Any, item: ItemContext, overlap: bool) -> None:
    duration = item.media.duration if item.media else None
    segments = c.regions(value)
    c.unique_ids(segments)
    placed: list[tuple[Number, Number, int]] = []
    for i, seg in enumerate(segments):
        path = f"[{i}]"
        c.label(seg, path)
        if not c.numbers(seg, ("start", "end"), path):
            continue
        start, end = seg["start"], seg["end"]
        if end <= start:
            c.fail("end_before_start", f"segment {start:g}-{end:g} s ends before it starts", path)
            continue
        if start < 0 or (duration is not None and end > duration + TIME_TOLERANCE):
            limit = f" (duration {duration:g} s)" if duration is not None else ""
            c.fail(
                "segment_out_of_range", f"segment {start:g}-{end:g} s is out of range{limit}", path
            )
            continue
        placed.append((start, end, i))
    if not overlap:
        for j in _overlaps(placed):
            c.fail(
                "segment_overlap", "segments overlap, which this control does not allow", f"[{j}]"
            )


def frame_total(item: ItemContext) -> int | None:
    """The number of frames of the video: given, or duration x fps when both are known."""
    media = item.media
    if media is None:
        return None
    if media.frame_count is not None:
        return media.frame_count
    if media.duration is not None and media.fps:
        return max(1, round(media.duration * media.fps))
    return None


def check_tracks(c: Checker, value: Any, item: ItemContext) -> None:
    tracks = c.regions(value)
    c.unique_ids(tracks)
    total = frame_total(item)
    for i, track in enumerate(tracks):
        path = f"[{i}]"
        c.label(track, path)
        frames = track.get("frames")
        if not isinstance(frames, list) or not frames:
            c.fail("type", "frames must be a non-empty list", f"{path}.frames")
            continue
        last: int | None = None
        for j, frame in enumerate(frames):
            where = f"{path}.frames[{j}]"
            if not isinstance(frame, Mapping) or not is_int(frame.get("frame")):
                c.fail("type", "each frame needs an integer frame number", where)
                continue
            number = frame["frame"]
            if last is not None and number <= last:
                c.fail("frame_order", "frame numbers must increase strictly", where)
            if number < 0 or (total is not None and number >= total):
                limit = f"0 to {total - 1}" if total is not None else "0 or more"
                c.fail(
                    "frame_out_of_range",
                    f"frame {number} is outside the video (frames {limit})",
                    where,
                )
            last = number if last is None else max(last, number)
            if "keyframe" in frame and not isinstance(frame["keyframe"], bool):
                c.fail("type", "keyframe must be true or false", f"{where}.keyframe")
            if c.numbers(frame, ("x", "y", "width", "height"), where):
                if frame["width"] <= 0 or frame["height"] <= 0:
                    c.fail("not_positive", "width and height must be positive", where)
                else:
                    c.inside(
                        [
                            (frame["x"], frame["y"]),
                            (frame["x"] + frame["width"], frame["y"] + frame["height"]),
                        ],
                        item,
                        where,
                    )
