"""Streamed exports: an iterator of export rows in, an iterator of ~64 KiB byte chunks out.

An export row is an item with its annotations: {"id", "data", "meta", "media", "status",
"batch_id", "created_at", "annotations": [{"id", "annotator", "result", "lead_time",
"created_at", "schema_version", "version", "parent_id", "skipped", "skip_reason"}],
"consensus": {control: {"label", "confidence", "n_labels", "method"}},
"ground_truth": {"result", "provenance"} or None (an adjudicated item's decided result)}.
Formats register by name, so more (COCO, YOLO, CoNLL, ...) plug in beside these.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from accord.errors import InvalidInput

Row = dict[str, Any]
Exporter = Callable[..., Iterator[bytes]]
CHUNK = 64 * 1024
EXPORTERS: dict[str, Exporter] = {}


def exporter(name: str) -> Callable[[Exporter], Exporter]:
    def register(func: Exporter) -> Exporter:
        EXPORTERS[name] = func
        return func

    return register


def _chunked(pieces: Iterable[str]) -> Iterator[bytes]:
    buffer: list[str] = []
    size = 0
    for piece in pieces:
        buffer.append(piece)
        size += len(piece)
        if size >= CHUNK:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode()


# What json.dumps(value, ensure_ascii=False, default=str) writes, without building an encoder
# for every value.
_dumps = json.JSONEncoder(ensure_ascii=False, default=str).encode


@exporter("jsonl")
def export_jsonl(rows: Iterable[Row], **_options: Any) -> Iterator[bytes]:
    return _chunked(_dumps(row) + "\n" for row in rows)


@exporter("json")
def export_json(rows: Iterable[Row], **_options: Any) -> Iterator[bytes]:
    def pieces() -> Iterator[str]:
        yield "["
        for i, row in enumerate(rows):
            yield ("," if i else "") + "\n" + _dumps(row)
        yield "\n]\n"

    return _chunked(pieces())


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else _dumps(value)


@exporter("csv")
def export_csv(
    rows: Iterable[Row],
    *,
    data_keys: list[str],
    meta_keys: list[str],
    controls: list[str],
    consensus_controls: Sequence[str] = (),
    ground_truth_controls: Sequence[str] = (),
    **_options: Any,
) -> Iterator[bytes]:
    """One line per (item, annotation); an item without annotations gets one line. Each line
    carries the item's consensus label and confidence for ``consensus_controls`` and, with
    ``ground_truth_controls``, the adjudicated result per control and its provenance (JSON).

    Columns are fixed up front (the stream cannot go back); data keys not in ``data_keys`` are
    gathered, as JSON, in a ``data._other`` column so that nothing is silently dropped."""
    header = (
        ["item_id"]
        + [f"data.{k}" for k in data_keys]
        + ["data._other"]
        + [f"meta.{k}" for k in meta_keys]
        + ["annotation_id", "annotator", "created_at", "lead_time", "skipped"]
        + [f"result.{c}" for c in controls]
        + [f"consensus.{c}{part}" for c in consensus_controls for part in ("", ".confidence")]
        + [f"ground_truth.{c}" for c in ground_truth_controls]
        + (["ground_truth.provenance"] if ground_truth_controls else [])
    )
    known = set(data_keys)

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            data = row.get("data") or {}
            meta = row.get("meta") or {}
            other = {k: v for k, v in data.items() if k not in known}
            base = (
                [row["id"]]
                + [_cell(data.get(k)) for k in data_keys]
                + [_dumps(other) if other else ""]
            )
            base += [_cell(meta.get(k)) for k in meta_keys]
            agreed = row.get("consensus") or {}
            tail = [
                _cell((agreed.get(c) or {}).get(part))
                for c in consensus_controls
                for part in ("label", "confidence")
            ]
            if ground_truth_controls:
                truth = row.get("ground_truth") or {}
                decided = truth.get("result") or {}
                tail += [_cell(decided.get(c)) for c in ground_truth_controls]
                tail.append(_cell(truth.get("provenance")))
            for a in row.get("annotations") or [None]:
                if a is None:
                    writer.writerow(base + ["", "", "", "", ""] + [""] * len(controls) + tail)
                else:
                    result = a.get("result") or {}
                    writer.writerow(
                        base
                        + [
                            a["id"],
                            a.get("annotator") or "",
                            a.get("created_at") or "",
                            _cell(a.get("lead_time")),
                            a.get("skipped", False),
                        ]
                        + [_cell(result.get(c)) for c in controls]
                        + tail
                    )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    return _chunked(lines())


def export_stream(rows: Iterable[Row], format: str, **options: Any) -> Iterator[bytes]:
    func = EXPORTERS.get(format)
    if func is None:
        raise InvalidInput(
            f"unknown export format {format!r}; use one of {', '.join(sorted(EXPORTERS))}",
            [{"field": "format", "rule": "known_format"}],
        )
    return func(rows, **options)
