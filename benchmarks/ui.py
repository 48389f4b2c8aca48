"""The browser UI in a real headless Chromium (Debian's, driven by Playwright):

1. labeling: time from pressing submit (Ctrl+Enter) to the next item fully rendered (the next
   animation frame after the labeler shows it), median and p95 over 100 items after 10 warm-up
   items, one annotator, text classification;
2. data browser: full page load (navigation start to the load event) of a page of 50 items at
   depth 1, 10,000 and the last page of a 1,000,000-item project, with and without filters.

    python benchmarks/ui.py [--items 1000000] [--no-write]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import Any

from _common import (
    accord,
    git_commit,
    machine,
    pct,
    served,
    text_project,
    write_section,
)
from playwright.sync_api import sync_playwright

SCHEMA = (
    "fields:\n  - {name: text, type: text}\ncontrols:\n"
    "  - {name: sentiment, type: choices, field: text, required: true,"
    " labels: [{value: positive, hotkey: '1'}, {value: negative, hotkey: '2'}]}\n"
)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MEASURE = """() => {
  window.__renderTimes = [];
  let pressed = null;
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey && e.key === "Enter") pressed = performance.now();
  }, true);
  document.addEventListener("accord-item-shown", () => {
    if (pressed === null) return;
    const started = pressed;
    pressed = null;
    const record = () => window.__renderTimes.push(performance.now() - started);
    requestAnimationFrame(() => setTimeout(record));
  });
}"""


def log_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def label_loop(page: Any, base: str, n: int, warmup: int) -> list[float]:
    page.goto(f"{base}/projects/1/label")
    page.locator("accord-labeler .item-text").wait_for()
    page.evaluate(MEASURE)
    for i in range(n + warmup):
        shown = page.locator("accord-labeler").get_attribute("data-item-id")
        page.keyboard.press("1" if i % 2 else "2")
        page.keyboard.press("Control+Enter")
        page.wait_for_function(
            "id => document.querySelector('accord-labeler').dataset.itemId !== id", arg=shown
        )
    page.wait_for_function(f"window.__renderTimes.length >= {n + warmup}")
    times: list[float] = page.evaluate("window.__renderTimes")
    return times[warmup:]


def page_load(page: Any, url: str, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats + 2):
        page.goto(url)
        out.append(
            page.evaluate(
                "() => { const n = performance.getEntriesByType('navigation')[0];"
                " return n.loadEventEnd - n.startTime; }"
            )
        )
    return out[2:]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = text_project(Path(tmp), "ui", SCHEMA, args.items, seed=4, with_split=True)
        accord(data_dir, "user", "create", "annotator", "--password", "annotator-pass")
        admin_token = accord(data_dir, "user", "token", "admin").stdout.strip()
        with served(data_dir) as api_base, sync_playwright() as playwright:
            import httpx

            base = api_base.removesuffix("/api/v1")
            httpx.put(
                f"{api_base}/projects/1/members/annotator",
                json={"role": "annotator"},
                headers={"Authorization": f"Bearer {admin_token}"},
            ).raise_for_status()
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            annotator = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            log_in(annotator, base, "annotator", "annotator-pass")
            render = label_loop(annotator, base, args.labels, warmup=10)
            manager = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            log_in(manager, base, "admin", "benchmark-pass")
            root = f"{base}/projects/1/items"
            last = args.items - 50
            pages = [
                ("all items, page 1", root),
                ("all items, page 10,000", f"{root}?after={499_950}"),
                ("all items, last page", f"{root}?after={last}"),
                ("status=open, last page", f"{root}?status=open&after={last}"),
                (
                    "metadata split=test, deep",
                    f"{root}?meta_key=split&meta_value=test&after={last - 5000}",
                ),
                ("full-text q=film, page 1", f"{root}?q=film"),
                ("full-text q=film, deep", f"{root}?q=film&after={args.items // 2}"),
            ]
            loads = [(name, page_load(manager, url, 20)) for name, url in pages]
            browser.close()
    label_line = (
        f"| next item rendered after submit | {statistics.median(render):.1f} | "
        f"{pct(render, 0.95):.1f} | {len(render)} items |"
    )
    lines = [
        f"| {name} | {statistics.median(t):.1f} | {pct(t, 0.95):.1f} | {len(t)} loads |"
        for name, t in loads
    ]
    print(label_line)
    print("\n".join(lines))
    if args.no_write:
        return
    write_section(
        "Browser UI: labeling and the data browser in headless Chromium",
        f"""Command: `python benchmarks/ui.py` (commit {git_commit()}).
Machine: {machine()}. Debian's Chromium, headless, driven by Playwright; `accord serve` on
SQLite; a project of {args.items:,} items of about 150 characters.

| what | median ms | p95 ms | n |
|---|---:|---:|---:|
{label_line}
{chr(10).join(lines)}

Labeling: from the Ctrl+Enter keydown to the animation frame after the labeler has shown the next
item (submit request, next request, rendering). Data browser: navigation start to the load event
of a server-rendered page of 50 items (`?after=` is the keyset cursor the pager links use).
Targets: next item rendered under 150 ms median; a data browser page under 100 ms at any depth.
""",
    )


if __name__ == "__main__":
    main()
