"""Content hashes (duplicate detection), search text, and running a reader one step ahead."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest

from accord.io import content_hash, dump_json, prefetch, search_text
from accord.io.hashing import MAX_SEARCH_TEXT


def test_content_hash_ignores_key_order_and_nothing_else() -> None:
    a = content_hash({"text": "hello", "meta": {"x": 1, "y": [1, 2]}})
    assert len(a) == 32 and int(a, 16) >= 0
    assert content_hash({"meta": {"y": [1, 2], "x": 1}, "text": "hello"}) == a
    assert content_hash({"text": "hello", "meta": {"x": 1, "y": [2, 1]}}) != a
    assert content_hash({"text": "hello ", "meta": {"x": 1, "y": [1, 2]}}) != a
    assert content_hash({"text": "hello", "meta": {"x": 1.0, "y": [1, 2]}}) != a


def test_content_hash_is_stable_across_runs() -> None:
    # a fixed value: hashes are stored, so they must never change between versions or machines
    assert content_hash({"text": "Ada Lovelace"}) == "6992f5ede683efa8cf9dd31501511f4a"
    assert content_hash({"text": "Ada Lovelace"}, "local:a.jpg") == (
        "e794291fb71f8512cdbb44838ffdc546"
    )


def test_media_takes_part_in_the_hash() -> None:
    data = {"image": "cells"}
    assert content_hash(data) != content_hash(data, "local:a.jpg")
    assert content_hash(data, "local:a.jpg") != content_hash(data, "local:b.jpg")
    assert content_hash(data, "local:a.jpg") == content_hash(dict(data), "local:a.jpg")


def test_dump_json_is_compact_utf8_and_writes_other_values_as_text() -> None:
    when = datetime.date(2026, 1, 2)
    assert dump_json({"b": "é", "a": when}) == '{"b":"é","a":"2026-01-02"}'.encode()
    assert dump_json({"b": 1, "a": 2}, canonical=True) == b'{"a":2,"b":1}'
    assert dump_json({1: "x"}) == b'{"1":"x"}'


def test_search_text_takes_strings_in_order_but_not_media_references() -> None:
    data = {
        "title": "Opossum",
        "image": "https://example.com/o.jpg",
        "file": "local:x.png",
        "turns": [{"text": "hello"}, {"text": "s3://bucket/key"}, "bye"],
        "n": 3,
    }
    assert search_text(data) == "Opossum hello bye"
    assert len(search_text({"t": "x" * (MAX_SEARCH_TEXT + 10)})) == MAX_SEARCH_TEXT


def test_prefetch_yields_the_same_values_in_order() -> None:
    assert list(prefetch(iter(range(1000)), depth=3)) == list(range(1000))
    assert list(prefetch(iter([]))) == []


def test_prefetch_raises_the_sources_error_at_its_position() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("row 3 is bad")

    seen = []
    with pytest.raises(ValueError, match="row 3 is bad"):
        for value in prefetch(source()):
            seen.append(value)
    assert seen == [1, 2]


def test_prefetch_stops_the_producer_when_the_consumer_stops() -> None:
    produced: list[int] = []

    def source() -> Iterator[int]:
        for i in range(1_000_000):
            produced.append(i)
            yield i

    stream = prefetch(source(), depth=2)
    assert [next(stream) for _ in range(5)] == [0, 1, 2, 3, 4]
    stream.close()  # waits for the producer to stop
    # the producer ran at most a few values ahead, not through the whole source
    assert len(produced) <= 5 + 2 + 2
