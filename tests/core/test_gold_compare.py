"""Property test: ``gold.compare`` scores spans and boxes exactly as the quality library does.

compare scores the few regions of two answers in plain Python; the reference here builds the
DataFrames and calls ``span_f1`` and ``box_f1`` directly, with compare's rule for empty answers
(both empty: 1, one empty: 0). Scores must be equal, not close: adjudication and gold scoring
compare them with thresholds."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.core.gold import STRUCTURED_MATCH, compare
from accord.quality import box_f1, span_f1
from accord.schema import parse_schema

SCHEMA = parse_schema(
    {
        "fields": [{"name": "text", "type": "text"}, {"name": "image", "type": "image"}],
        "controls": [
            {"name": "entities", "type": "spans", "field": "text", "labels": ["PER", "LOC"]},
            {"name": "cells", "type": "boxes", "field": "image", "labels": ["RBC", "WBC"]},
        ],
    }
)


def library_score(expected: Any, given: Any, spans: bool) -> float:
    rows: list[list[tuple[Any, ...]]]
    if spans:
        columns = ["item", "label", "start", "end"]
        rows = [
            [(0, r.get("label"), r["start"], r["end"]) for r in v or []] for v in (expected, given)
        ]
    else:
        columns = ["item", "label", "x_min", "y_min", "x_max", "y_max"]
        rows = [
            [
                (0, r.get("label"), r["x"], r["y"], r["x"] + r["width"], r["y"] + r["height"])
                for r in v or []
            ]
            for v in (expected, given)
        ]
    reference, predicted = (pd.DataFrame(r, columns=columns) for r in rows)
    if reference.empty and predicted.empty:
        return 1.0
    if reference.empty or predicted.empty:
        return 0.0
    metric = span_f1 if spans else box_f1
    return float(metric(reference, predicted).f1)


# Few labels and small offsets, so that spans often coincide (duplicates included).
span = st.builds(
    lambda label, start, length: {"label": label, "start": start, "end": start + length},
    st.sampled_from(["PER", "LOC"]),
    st.integers(0, 6),
    st.integers(1, 3),
)
# Integer grid boxes hit IoU exactly 0.5 and tie in the matching; fractional ones do neither.
coordinate = st.integers(0, 4) | st.floats(0, 4, allow_nan=False).map(lambda v: round(v, 2))
extent = st.integers(1, 4) | st.floats(0.01, 4, allow_nan=False).map(lambda v: round(v, 2))
box = st.builds(
    lambda label, x, y, w, h: {"label": label, "x": x, "y": y, "width": w, "height": h},
    st.sampled_from(["RBC", "WBC"]),
    coordinate,
    coordinate,
    extent,
    extent,
)
# A control an answer did not give is None (adjudication passes both answers' controls).
spans = st.none() | st.lists(span, max_size=4)
boxes = st.none() | st.lists(box, max_size=5)


@settings(max_examples=600, deadline=None)
@given(spans, spans, boxes, boxes)
def test_compare_scores_spans_and_boxes_like_the_quality_library(
    gold_spans: Any, given_spans: Any, gold_boxes: Any, given_boxes: Any
) -> None:
    gold = {"entities": gold_spans, "cells": gold_boxes}
    answer = {"entities": given_spans, "cells": given_boxes}
    expected = {
        "entities": library_score(gold_spans, given_spans, spans=True),
        "cells": library_score(gold_boxes, given_boxes, spans=False),
    }
    scores = compare(SCHEMA, gold, answer)
    assert scores == expected
    assert all(type(v) is float for v in scores.values())
    # The same pass mark on both sides of STRUCTURED_MATCH.
    assert {c: s >= STRUCTURED_MATCH for c, s in scores.items()} == {
        c: s >= STRUCTURED_MATCH for c, s in expected.items()
    }


@pytest.mark.parametrize(
    ("gold", "answer", "spans"),
    [
        (
            [{"label": "PER", "start": 0.0, "end": 3.0}],
            [{"label": "PER", "start": 0, "end": 3}],
            True,
        ),
        (
            [{"start": 0, "end": 3}],
            [{"start": 0, "end": 3}, {"label": "PER", "start": 0, "end": 3}],
            True,
        ),
        (
            [{"x": 0, "y": 0, "width": 2, "height": 2}],
            [{"x": 0, "y": 0, "width": 2, "height": 2}],
            False,
        ),
        (
            [{"label": "RBC", "x": 0, "y": 0, "width": 2, "height": 2}],
            [{"label": "RBC", "x": True, "y": 0, "width": 2, "height": 2}],
            False,
        ),
    ],
)
def test_regions_of_another_shape_are_scored_by_the_library(
    gold: list[dict[str, Any]], answer: list[dict[str, Any]], spans: bool
) -> None:
    # Float offsets, a missing label or a boolean coordinate never pass validation; such stored
    # results are still scored as the library scores them.
    control = "entities" if spans else "cells"
    scores = compare(SCHEMA, {control: gold}, {control: answer})
    assert scores == {control: library_score(gold, answer, spans=spans)}
