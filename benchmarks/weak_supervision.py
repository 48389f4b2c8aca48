"""Weak supervision on all of SST-2 (68,221 sentences): ten sentiment labeling functions, their
statistics against the gold labels, and the label model (Dawid–Skene) against majority vote.

    python benchmarks/weak_supervision.py [--no-write]

The labeling functions below were written once from general sentiment vocabulary (eight keyword
lists and two regular expressions, a negated-praise rule and a "well made" rule) before any
figure was looked at, and were not tuned on SST-2. Accuracy uses the gold label of every
sentence (all splits); "covered" rows are those where at least one function votes, and
"accuracy, all rows" counts every abstention as wrong. Seconds: best of 3 runs.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from _common import DATASETS, git_commit, machine, write_section

from accord.automation.weak_supervision import (
    ABSTAIN,
    LabelingFunctionSpec,
    LabelModel,
    apply_labeling_functions,
    label_matrix_coverage,
    lf_summary,
)

LABELS = ["negative", "positive"]
T = TypeVar("T")


# Written once from general sentiment vocabulary, before any figure was seen; the tests of
# accord.automation.weak_supervision use the same list.
FUNCTIONS = [
    LabelingFunctionSpec(**spec)
    for spec in json.loads((Path(__file__).parent / "sst2_sentiment_functions.json").read_text())
]


def timed(run: Callable[[], T], repeats: int = 3) -> tuple[T, float]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    assert result is not None
    return result, best


def load() -> tuple[list[dict[str, Any]], np.ndarray]:
    with (DATASETS / "text" / "sst2.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    records = [{"text": row["text"]} for row in rows]
    gold = np.array([LABELS.index(row["label"]) for row in rows], dtype=np.int64)
    return records, gold


def describe(spec: LabelingFunctionSpec) -> str:
    if spec.kind == "keywords":
        words = spec.config["keywords"]
        return f"keywords: {', '.join(words[:4])}{', …' if len(words) > 4 else ''}"
    pattern = spec.config["pattern"][:48].replace("|", "\\|")
    return f"regex: `{pattern}…`"


def function_table(L: np.ndarray, gold: np.ndarray) -> tuple[str, pd.DataFrame]:
    names = [spec.name for spec in FUNCTIONS]
    summary = lf_summary(L, names, LABELS, gold)
    estimated = LabelModel("dawid_skene").fit(L, len(LABELS)).accuracies_
    lines = [
        "| function | votes | rule | coverage | overlap | conflict | accuracy on gold "
        "| Dawid–Skene's estimate |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for j, spec in enumerate(FUNCTIONS):
        row = summary.loc[spec.name]
        lines.append(
            f"| {spec.name} | {spec.label} | {describe(spec)} | {row['coverage']:.2%} "
            f"| {row['overlap']:.2%} | {row['conflict']:.2%} | {row['accuracy']:.3f} "
            f"({int(row['correct']):,}/{int(row['n_gold']):,}) | {estimated[j]:.3f} |"
        )
    return "\n".join(lines), summary


def model_rows(L: np.ndarray, gold: np.ndarray) -> list[dict[str, Any]]:
    covered = (L != ABSTAIN).any(axis=1)
    lowest = np.where(L != ABSTAIN, L, len(LABELS)).min(axis=1)
    conflict = covered & (lowest != L.max(axis=1))  # two different labels voted
    out = []
    for title, settings in [
        ("majority vote", {"method": "majority"}),
        ("Dawid–Skene (label model default)", {"method": "dawid_skene"}),
        ("Dawid–Skene, `class_balance=[0.5, 0.5]`", {"class_balance": [0.5, 0.5]}),
        (
            "Dawid–Skene on votes only (`accord.quality.DawidSkene`)",
            {"method": "dawid_skene_votes"},
        ),
    ]:
        model, seconds = timed(lambda s=settings: LabelModel(**s).fit(L, len(LABELS)))
        right = model.labels_ == gold
        out.append(
            {
                "model": title,
                "coverage": float((model.labels_ != ABSTAIN).mean()),
                "covered": float(right[covered].mean()),
                "all": float(right.mean()),
                "conflict": float(right[conflict].mean()) if conflict.any() else float("nan"),
                "n_conflict": int(conflict.sum()),
                "seconds": seconds,
            }
        )
    return out


def model_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| label model | coverage | accuracy, covered rows | accuracy, all rows "
        "| accuracy, rows with conflicting votes | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['coverage']:.2%} | {r['covered']:.4f} | {r['all']:.4f} "
            f"| {r['conflict']:.4f} ({r['n_conflict']:,} rows) | {r['seconds']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    load_average = os.getloadavg()[0]
    records, gold = load()
    L, apply_seconds = timed(lambda: apply_labeling_functions(FUNCTIONS, records, LABELS))
    n, m = L.shape
    functions, summary = function_table(L, gold)
    all_rows = model_rows(L, gold)
    negated = [spec.name for spec in FUNCTIONS].index("neg_negated_praise")
    rest = np.delete(L, negated, axis=1)
    without_negated = model_rows(rest, gold)
    together = (
        summary.loc["neg_negated_praise", "overlap"] / summary.loc["neg_negated_praise", "coverage"]
    )

    body = "\n".join(
        [
            f"Machine: {machine()}. Command: `python benchmarks/weak_supervision.py` "
            f"(commit {git_commit()}). One-minute load average at the start: {load_average:.1f} "
            "(other jobs shared the two cores, so the seconds are upper bounds).",
            "",
            f"All {n:,} SST-2 sentences (`../shared/datasets/text/sst2.csv`, all splits, gold "
            f"label of each). {m} labeling functions written once from general sentiment "
            "vocabulary before any figure was seen, not tuned on this data (the list is in the "
            "script). Keyword functions match whole words, case-insensitively. Coverage, "
            "overlap and conflict are shares of all rows (`lf_summary`); accuracy is on the "
            "function's votes. \"Dawid–Skene's estimate\" is the label model's `accuracies_`: "
            "the mean posterior probability of the label the function voted.",
            "",
            f"`apply_labeling_functions`, {n:,} rows x {m} functions: {apply_seconds:.2f} s "
            f"(best of 3). Rows with at least one vote: {label_matrix_coverage(L):.2%}.",
            "",
            functions,
            "",
            "Label models on the same matrix (seconds: `LabelModel.fit`, best of 3):",
            "",
            model_table(all_rows),
            "",
            "The same without `neg_negated_praise` (an analysis after the fact: this rule "
            "negates the very words the praise functions look for, so it fires together with "
            f"them on {together:.0%} of its votes, "
            "which breaks the label model's assumption that functions vote independently "
            "given the true class):",
            "",
            model_table(without_negated),
            "",
            "Findings. Majority vote and Dawid–Skene give different labels only on rows with "
            "conflicting votes, where Dawid–Skene, weighing each function by its estimated "
            "confusion matrix, is right clearly more often, and on the rows where "
            "`neg_negated_praise` votes alone: Dawid–Skene reads that function (measured "
            f"accuracy {summary.loc['neg_negated_praise', 'accuracy']:.3f}) as a sign of "
            "*positive* sentiment (its estimate in the first table) and mislabels them, which "
            "puts it below majority vote on covered rows with all ten functions. "
            "A function whose estimate sits far below its accuracy on a "
            "few gold items is the symptom to look for; without that function Dawid–Skene is "
            "ahead of majority vote. Dawid–Skene on the votes alone (abstentions dropped, as "
            "for crowd labels) collapses to the class prior: a function that only ever votes "
            "one label looks the same under every class, so it carries no evidence in that "
            "model, which is why the label model treats abstention as an answer. Fixing the "
            "class balance at 50/50 does not help: with the prior held there, EM moves "
            "`pos_good`, the least accurate and most frequent function, to the negative side.",
        ]
    )
    print(body)
    if not args.no_write:
        write_section("Weak supervision", body)


if __name__ == "__main__":
    main()
