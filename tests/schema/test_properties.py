"""Properties of result validation over generated values."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from accord.errors import InvalidResult
from accord.schema import ItemContext, MediaInfo, parse_schema, validate_result
from tests.schema.common import HEIGHT, ITEM, SCHEMA, WIDTH, problems

SPANS = parse_schema(
    {
        "fields": [{"name": "t", "type": "text"}],
        "controls": [
            {"name": "free", "type": "spans", "field": "t", "overlap": True, "labels": ["A"]},
            {"name": "flat", "type": "spans", "field": "t", "labels": ["A"]},
        ],
    }
)

texts = st.text(min_size=1, max_size=60)


@st.composite
def text_and_span(draw: st.DrawFn) -> tuple[str, int, int]:
    text = draw(texts)
    start = draw(st.integers(0, len(text) - 1))
    end = draw(st.integers(start + 1, len(text)))
    return text, start, end


@given(text_and_span())
def test_any_span_inside_the_text_with_its_own_text_is_valid(case: tuple[str, int, int]) -> None:
    text, start, end = case
    value = [{"id": "s", "label": "A", "start": start, "end": end, "text": text[start:end]}]
    result = {"free": value, "flat": value}
    assert validate_result(SPANS, result, ItemContext(1, {"t": text})) == result


@given(texts, st.data())
def test_any_span_ending_past_the_text_is_refused(text: str, data: st.DataObject) -> None:
    end = data.draw(st.integers(len(text) + 1, len(text) + 100))
    start = data.draw(st.integers(0, end - 1))
    value = [{"label": "A", "start": start, "end": end}]
    assert problems({"free": value}, SPANS, ItemContext(2, {"t": text})) == [
        ("free", "span_out_of_range", "[0]")
    ]


@given(text_and_span(), st.text(min_size=1, max_size=10))
def test_any_span_whose_text_differs_is_refused(case: tuple[str, int, int], claimed: str) -> None:
    text, start, end = case
    value = [{"label": "A", "start": start, "end": end, "text": claimed}]
    item = ItemContext(3, {"t": text})
    if claimed == text[start:end]:
        assert validate_result(SPANS, {"free": value}, item) == {"free": value}
    else:
        assert problems({"free": value}, SPANS, item) == [
            ("free", "span_text_mismatch", "[0].text")
        ]


intervals = st.lists(
    st.tuples(st.integers(0, 40), st.integers(1, 10)).map(lambda t: (t[0], t[0] + t[1])),
    min_size=1,
    max_size=8,
)


@given(intervals)
def test_overlap_is_refused_exactly_when_two_spans_share_a_character(
    pairs: list[tuple[int, int]],
) -> None:
    text = "x" * 50
    value = [{"label": "A", "start": s, "end": e} for s, e in pairs]
    item = ItemContext(4, {"t": text})
    assert validate_result(SPANS, {"free": value}, item) == {"free": value}
    clash = any(a[0] < b[1] and b[0] < a[1] for a, b in itertools.combinations(pairs, 2))
    try:
        validate_result(SPANS, {"flat": value}, item)
        refused: set[str] = set()
    except InvalidResult as exc:
        refused = {p.rule for p in exc.problems}
    assert refused == ({"span_overlap"} if clash else set())


coords = st.floats(0, 1, allow_nan=False)


@given(coords, coords, coords, coords)
def test_any_box_inside_the_image_is_valid(a: float, b: float, c: float, d: float) -> None:
    x, y = a * (WIDTH - 1), b * (HEIGHT - 1)
    w, h = max(c * (WIDTH - x), 0.01), max(d * (HEIGHT - y), 0.01)
    value = {"boxes": [{"label": "cell", "x": x, "y": y, "width": w, "height": h}]}
    assert validate_result(SCHEMA, value, ITEM) == value


@given(coords, st.floats(0.51, 1000, allow_nan=False))
def test_any_box_reaching_past_the_right_edge_is_refused(a: float, over: float) -> None:
    x = a * (WIDTH - 1)
    value = {"boxes": [{"label": "cell", "x": x, "y": 0, "width": WIDTH - x + over, "height": 5}]}
    assert problems(value) == [("boxes", "outside_image", "[0]")]


@given(st.floats(0, 360, allow_nan=False))
def test_a_small_box_near_the_centre_stays_inside_at_any_rotation(rotation: float) -> None:
    value = {
        "rboxes": [
            {"label": "cell", "x": 320, "y": 240, "width": 50, "height": 30, "rotation": rotation}
        ]
    }
    assert validate_result(SCHEMA, value, ITEM) == value


def encode_rle(bits: list[int]) -> list[int]:
    """Row-major runs, starting with background: the format clients write."""
    counts, current, run = [], 0, 0
    for bit in bits:
        if bit == current:
            run += 1
        else:
            counts.append(run)
            current, run = bit, 1
    counts.append(run)
    return counts


MASKS = parse_schema(
    {
        "fields": [{"name": "img", "type": "image"}],
        "controls": [{"name": "m", "type": "masks", "field": "img", "labels": ["x"]}],
    }
)


@given(st.integers(1, 12), st.integers(1, 12), st.data())
def test_any_encoded_mask_is_valid_and_any_miscount_is_not(
    height: int, width: int, data: st.DataObject
) -> None:
    bits = data.draw(st.lists(st.integers(0, 1), min_size=width * height, max_size=width * height))
    counts = encode_rle(bits)
    assert sum(counts) == width * height
    item = ItemContext(5, {"img": "x.png"}, MediaInfo(width=width, height=height))
    mask: dict[str, Any] = {"label": "x", "rle": {"size": [height, width], "counts": counts}}
    assert validate_result(MASKS, {"m": [mask]}, item) == {"m": [mask]}
    wrong = data.draw(st.integers(-counts[-1], 5).filter(lambda n: n != 0))
    bad = {**mask, "rle": {"size": [height, width], "counts": [*counts[:-1], counts[-1] + wrong]}}
    assert problems({"m": [bad]}, MASKS, item) == [("m", "mask_counts", "[0].rle.counts")]


@given(st.permutations(list(range(6))))
def test_any_permutation_is_a_valid_ranking(order: list[int]) -> None:
    item = ItemContext(6, {"options": list("abcdef")})
    assert validate_result(SCHEMA, {"order": order}, item) == {"order": order}


@given(st.lists(st.integers(-2, 7), max_size=8))
def test_anything_but_a_permutation_is_refused(order: list[int]) -> None:
    item = ItemContext(6, {"options": list("abcdef")})
    if sorted(order) == list(range(6)):
        assert validate_result(SCHEMA, {"order": order}, item) == {"order": order}
    elif not order:
        assert validate_result(SCHEMA, {"order": order}, item) == {}  # empty: not answered
    else:
        assert problems({"order": order}, item=item) == [("order", "not_permutation", "")]


@given(st.floats(0, 9.9, allow_nan=False), st.floats(0.01, 5, allow_nan=False))
def test_segments_are_valid_exactly_when_inside_the_duration(start: float, length: float) -> None:
    end = start + length
    value = {"speech": [{"label": "voice", "start": start, "end": end}]}
    if end <= 10.001:
        assert validate_result(SCHEMA, value, ITEM) == value
    else:
        assert problems(value) == [("speech", "segment_out_of_range", "[0]")]
