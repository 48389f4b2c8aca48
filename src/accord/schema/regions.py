"""Checks of region results (spans, boxes, polygons, keypoints, masks, segments, tracks).

Plain Python over the JSON values: this runs on every submit, so no models are built per region.
Each checker appends ResultProblem(control, rule, message, path) and returns the cleaned value.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

from accord.errors import ResultProblem
from accord.schema.context import ItemContext

Problems = list[ResultProblem]
Number = int | float


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class Checker:
    """Collects the problems of one control's value."""

    def __init__(self, control: str, labels: frozenset[str], problems: Problems) -> None:
        self.control = control
        self.labels = labels
        self.problems = problems

    def fail(self, rule: str, message: str, path: str = "") -> None:
        self.problems.append(ResultProblem(self.control, rule, message, path))

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
            self.fail("unknown_label", f"{label!r} is not a label of this control", f"{path}.label")

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
        media = item.media
        if media is None or media.width is None or media.height is None:
            for x, y in points:
                if x < 0 or y < 0:
                    self.fail("box_outside_image", "coordinates must not be negative", path)
                    return
            return
        eps = 1e-6
        for x, y in points:
            if not (-eps <= x <= media.width + eps and -eps <= y <= media.height + eps):
                self.fail(
                    "box_outside_image",
                    f"point ({x:g}, {y:g}) lies outside the {media.width:g}x{media.height:g} image",
                    path,
                )
                return


def check_spans(
    c: Checker, value: Any, item: ItemContext, text: Any, overlap: bool
) -> list[Mapping[str, Any]]:
    spans = c.regions(value)
    c.unique_ids(spans)
    if not isinstance(text, str):
        c.fail("type", "the field this control labels holds no text")
        return spans
    placed: list[tuple[int, int, int]] = []
    for i, span in enumerate(spans):
        path = f"[{i}]"
        c.label(span, path)
        start, end = span.get("start"), span.get("end")
        if (
            not (isinstance(start, int) and isinstance(end, int))
            or isinstance(start, bool)
            or isinstance(end, bool)
        ):
            c.fail("type", "start and end must be integers (character offsets)", path)
            continue
        if not 0 <= start < end <= len(text):
            c.fail(
                "span_out_of_range",
                f"span {start}-{end} is outside the text (length {len(text)})",
                path,
            )
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
        placed.sort()
        for (_, end_a, _), (start_b, _, j) in itertools.pairwise(placed):
            if start_b < end_a:
                c.fail("span_overlap", "spans overlap, which this control does not allow", f"[{j}]")
    return spans


def check_relations(c: Checker, value: Any, span_ids: set[str], directed: bool) -> None:
    seen: set[tuple[str, str, str]] = set()
    for i, rel in enumerate(c.regions(value)):
        path = f"[{i}]"
        c.label(rel, path)
        ends = (rel.get("from"), rel.get("to"))
        for key, rid in zip(("from", "to"), ends, strict=True):
            if rid is None or str(rid) not in span_ids:
                c.fail(
                    "unknown_span",
                    f"{key} refers to span {rid!r}, which is not in the spans",
                    f"{path}.{key}",
                )
        a, b = str(ends[0]), str(ends[1])
        key3 = (
            (a, b, str(rel.get("label")))
            if directed
            else (min(a, b), max(a, b), str(rel.get("label")))
        )
        if key3 in seen:
            c.fail("duplicate_relation", "the same relation is given twice", path)
        seen.add(key3)


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
        if rotated:
            # Rotation in degrees, clockwise, about the top-left corner (x, y), as in Label Studio.
            t = math.radians(box["rotation"])
            cos, sin = math.cos(t), math.sin(t)
            corners = [
                (x + dx * cos - dy * sin, y + dx * sin + dy * cos)
                for dx, dy in ((0, 0), (w, 0), (w, h), (0, h))
            ]
        else:
            corners = [(x, y), (x + w, y + h)]
        c.inside(corners, item, path)


def check_polygons(c: Checker, value: Any, item: ItemContext) -> None:
    for i, poly in enumerate(c.regions(value)):
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
    for i, instance in enumerate(c.regions(value)):
        path = f"[{i}]"
        if c.labels:
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
                if not isinstance(point, Mapping) or not c.numbers(point, ("x", "y"), where):
                    continue
                c.inside([(point["x"], point["y"])], item, where)


def check_masks(c: Checker, value: Any, item: ItemContext) -> None:
    for i, mask in enumerate(c.regions(value)):
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
            isinstance(size, list)
            and len(size) == 2
            and all(isinstance(s, int) and s > 0 for s in size)
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
        if not isinstance(counts, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts
        ):
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
    placed: list[tuple[float, float, int]] = []
    for i, seg in enumerate(c.regions(value)):
        path = f"[{i}]"
        c.label(seg, path)
        if not c.numbers(seg, ("start", "end"), path):
            continue
        start, end = seg["start"], seg["end"]
        if not 0 <= start < end or (duration is not None and end > duration + 1e-6):
            limit = f" (duration {duration:g} s)" if duration is not None else ""
            c.fail(
                "segment_out_of_range", f"segment {start:g}-{end:g} s is out of range{limit}", path
            )
            continue
        placed.append((start, end, i))
    if not overlap:
        placed.sort()
        for (_, end_a, _), (start_b, _, j) in itertools.pairwise(placed):
            if start_b < end_a:
                c.fail(
                    "segment_overlap",
                    "segments overlap, which this control does not allow",
                    f"[{j}]",
                )


def check_tracks(c: Checker, value: Any, item: ItemContext) -> None:
    tracks = c.regions(value)
    c.unique_ids(tracks)
    frames_total = item.media.frame_count if item.media else None
    for i, track in enumerate(tracks):
        path = f"[{i}]"
        c.label(track, path)
        frames = track.get("frames")
        if not isinstance(frames, list) or not frames:
            c.fail("type", "frames must be a non-empty list", f"{path}.frames")
            continue
        last = -1
        for j, frame in enumerate(frames):
            where = f"{path}.frames[{j}]"
            if not isinstance(frame, Mapping) or not isinstance(frame.get("frame"), int):
                c.fail("type", "each frame needs an integer frame number", where)
                continue
            number = frame["frame"]
            if number <= last:
                c.fail("frame_order", "frame numbers must increase strictly", where)
            if number < 0 or (frames_total is not None and number >= frames_total):
                c.fail(
                    "out_of_range",
                    f"frame {number} is outside the video ({frames_total} frames)",
                    where,
                )
            last = number
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
