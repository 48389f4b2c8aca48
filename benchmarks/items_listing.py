"""Item listing over HTTP in a 1,000,000-item project: page time at any depth, with filters.

    python benchmarks/items_listing.py [--items 1000000] [--repeats 30] [--no-write]

Imports the items through the CLI, starts `accord serve`, walks the keyset pagination to record
the cursor of pages 1, 100, 1,000, 5,000 and the last page (50 items a page), then times each of
those pages (median and p95 of repeated requests from one keep-alive client), unfiltered, by
status, by metadata and by full-text search.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from _common import (
    accord,
    git_commit,
    machine,
    pct,
    served,
    text_project,
    write_section,
)

SCHEMA = (
    "fields:\n  - {name: text, type: text}\ncontrols:\n"
    "  - {name: sentiment, type: choices, field: text, labels: [positive, negative]}\n"
)
PAGE = 50


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = text_project(Path(tmp), "browse", SCHEMA, args.items, seed=3, with_split=True)
        token = accord(data_dir, "user", "token", "admin").stdout.strip()
        last_page = args.items // PAGE
        depths = [d for d in (1, 100, 1_000, 5_000, last_page) if d <= last_page]
        with (
            served(data_dir) as base,
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http,
        ):
            url = "/projects/1/items"
            filters = {
                "all items": {},
                "status=open": {"status": "open"},
                "meta split=train": {"meta_key": "split", "meta_value": "train"},
            }
            rows = []
            for name, params in filters.items():
                for depth in depths:
                    query: dict[str, str | int] = dict(params, limit=PAGE)
                    if depth > 1:
                        after = _cursor(http, url, params, depth)
                        if after is None:
                            continue  # this filter has fewer pages
                        query["after"] = after
                    timings = _time(http, url, query, args.repeats)
                    rows.append((name, depth, timings))
            search = {"q": "film"}
            timings = _time(http, url, dict(search, limit=PAGE), args.repeats)
            rows.append(("full-text q=film", 1, timings))
            deep = _cursor(http, url, search, 100)
            rows.append(
                (
                    "full-text q=film",
                    100,
                    _time(http, url, dict(search, limit=PAGE, after=deep), 10),
                )
            )
        lines = [
            f"| {name} | {depth:,} | {statistics.median(t):.1f} | {pct(t, 0.95):.1f} |"
            for name, depth, t in rows
        ]
        print("\n".join(lines))
        if args.no_write:
            return
        write_section(
            "Item listing: page time at any depth, 1,000,000 items",
            f"""Command: `python benchmarks/items_listing.py` (commit {git_commit()}).
Machine: {machine()}.
`GET /api/v1/projects/1/items?limit={PAGE}` over HTTP from one keep-alive client against
`accord serve` (SQLite), {args.items:,} items; median and p95 of {args.repeats} requests per row
(full-text at depth 100: 10 requests). Keyset pagination: a page is found through the index by
the last id of the page before it, so its cost does not grow with its depth.

| filter | page | median ms | p95 ms |
|---|---:|---:|---:|
{chr(10).join(lines)}
""",
        )


def _cursor(http: httpx.Client, url: str, params: dict[str, str], depth: int) -> int | None:
    """The cursor of page ``depth``, found by walking the API's own cursors in big steps;
    None when the filter has fewer pages."""
    after: int | None = None
    remaining = (depth - 1) * PAGE
    while remaining > 0:
        step = min(remaining, 1000)
        query: dict[str, str | int] = dict(params, limit=step)
        if after is not None:
            query["after"] = after
        page = http.get(url, params=query).raise_for_status().json()
        if len(page["items"]) < step:
            return None
        after = page["items"][-1]["id"]
        remaining -= step
    return after


def _time(http: httpx.Client, url: str, query: dict[str, str | int], n: int) -> list[float]:
    http.get(url, params=query).raise_for_status()  # warm up
    out = []
    for _ in range(n):
        started = time.perf_counter()
        http.get(url, params=query).raise_for_status()
        out.append((time.perf_counter() - started) * 1000)
    return out


if __name__ == "__main__":
    main()
