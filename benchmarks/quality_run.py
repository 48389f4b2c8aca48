"""A project's quality run inside the platform, on SQLite: read the labels, aggregate
(Dawid-Skene), agreement with bootstrap intervals, annotator skills, suspected errors (with the
cross-validated text model when the control labels text), and write it all back.

    python benchmarks/quality_run.py [--scale-items 200000]

Two projects, each labelled by 3 of 30 simulated annotators per item whose accuracies range
from 0.60 to 0.95 (answers drawn from the gold label, wrong answers uniformly among the others):
the SST-2 training sentences (text, so the model-based detection runs) and a large image-style
project (no text: disagreement only). Labels are written straight into the tables the way
submissions leave them, so that the figure is the quality run's alone. Reports the run's wall
time by phase, the consensus accuracy against the gold labels and how many suspects are items
whose consensus is in fact wrong.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import DATASETS, git_commit, machine, write_section
from sqlalchemy import insert, select, update

from accord.config import Settings
from accord.core import imports, projects, quality_runs, users
from accord.db.engine import open_database
from accord.db.migrate import upgrade
from accord.db.models import (
    Annotation,
    AnnotationLabel,
    Consensus,
    Item,
    SchemaVersion,
    SuspectedError,
)
from accord.io import ImportRecord

N_ANNOTATORS = 30
OVERLAP = 3
CHUNK = 50_000


def schema(field_type: str, labels: list[str]) -> dict[str, Any]:
    return {
        "fields": [{"name": "content", "type": field_type}],
        "controls": [{"name": "label", "type": "choices", "field": "content", "labels": labels}],
    }


def simulate(truth: np.ndarray, labels: list[str], rng: np.random.Generator) -> pd.DataFrame:
    """3 distinct annotators of 30 per item; each right with its own accuracy."""
    n = len(truth)
    accuracy = np.linspace(0.60, 0.95, N_ANNOTATORS)
    who = np.argsort(rng.random((n, N_ANNOTATORS)), axis=1)[:, :OVERLAP]
    codes = pd.Index(labels).get_indexer(truth)
    right = rng.random((n, OVERLAP)) < accuracy[who]
    wrong = (codes[:, None] + rng.integers(1, len(labels), (n, OVERLAP))) % len(labels)
    given = np.where(right, codes[:, None], wrong)
    return pd.DataFrame(
        {
            "item": np.repeat(np.arange(n), OVERLAP),
            "annotator": who.ravel(),
            "label": np.asarray(labels, dtype=object)[given.ravel()],
        }
    )


def run_scenario(
    name: str, contents: list[str], truth: np.ndarray, field_type: str, labels: list[str]
) -> dict[str, Any]:
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(Settings(data_dir=Path(tmp)))
        upgrade(db.url)
        with db.transaction() as session:
            admin = users.create_user(session, "admin", "benchmark-pass", is_admin=True)
            people = [
                users.create_user(session, f"annotator{k:02d}", "benchmark-pass")
                for k in range(N_ANNOTATORS)
            ]
            project = projects.create_project(
                session, admin, name, schema(field_type, labels), overlap=OVERLAP
            )
            project_id, admin_id = project.id, admin.id
            people_ids = [p.id for p in people]
        records = (ImportRecord(row=i + 1, data={"content": c}) for i, c in enumerate(contents))
        imports.run_import(db, project_id, admin_id, records, source=name, format="jsonl")
        frame = simulate(truth, labels, rng)
        with db.bulk_transaction() as session:
            item_ids = np.asarray(
                session.scalars(
                    select(Item.id).where(Item.project_id == project_id).order_by(Item.id)
                ).all()
            )
            version_id = session.scalar(
                select(SchemaVersion.id).where(SchemaVersion.project_id == project_id)
            )
            first = (session.scalar(select(Annotation.id).order_by(Annotation.id.desc())) or 0) + 1
            ids = np.arange(first, first + len(frame))
            rows = list(
                zip(
                    ids.tolist(),
                    item_ids[frame["item"].to_numpy()].tolist(),
                    np.asarray(people_ids)[frame["annotator"].to_numpy()].tolist(),
                    frame["label"].tolist(),
                    strict=True,
                )
            )
            for start in range(0, len(rows), CHUNK):
                part = rows[start : start + CHUNK]
                session.execute(
                    insert(Annotation),
                    [
                        {
                            "id": a,
                            "project_id": project_id,
                            "item_id": i,
                            "user_id": u,
                            "result": {"label": lab},
                            "schema_version_id": version_id,
                        }
                        for a, i, u, lab in part
                    ],
                )
                session.execute(
                    insert(AnnotationLabel),
                    [
                        {
                            "annotation_id": a,
                            "project_id": project_id,
                            "item_id": i,
                            "control": "label",
                            "label": lab,
                        }
                        for a, i, u, lab in part
                    ],
                )
            session.execute(
                update(Item)
                .where(Item.project_id == project_id)
                .values(n_done=OVERLAP, status="done")
            )
        started = time.perf_counter()
        summary = quality_runs.run_quality(db, project_id, method="dawid_skene")
        wall = time.perf_counter() - started
        with db.transaction(write=False) as session:
            consensus = dict(
                session.execute(
                    select(Consensus.item_id, Consensus.label).where(
                        Consensus.project_id == project_id
                    )
                ).all()
            )
            suspects = set(
                session.scalars(
                    select(SuspectedError.item_id).where(SuspectedError.project_id == project_id)
                )
            )
        db.dispose()
    gold = dict(zip(item_ids.tolist(), truth.tolist(), strict=True))
    wrong = {i for i, label in consensus.items() if label != gold[i]}
    (control,) = summary["controls"]
    return {
        "name": name,
        "items": len(contents),
        "labels": len(frame),
        "text_model": field_type == "text",
        "seconds": wall,
        "compute": control["seconds"],
        "accuracy": 1 - len(wrong) / len(consensus),
        "mv_accuracy": majority_accuracy(frame, truth, labels),
        "suspects": len(suspects),
        "precision": len(suspects & wrong) / max(1, len(suspects)),
        "recall": len(suspects & wrong) / max(1, len(wrong)),
    }


def majority_accuracy(frame: pd.DataFrame, truth: np.ndarray, labels: list[str]) -> float:
    from accord.quality import MajorityVote

    voted = MajorityVote().fit(frame).labels_.sort_index()
    return float((voted.to_numpy() == truth[voted.index.to_numpy()]).mean())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale-items", type=int, default=200_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    sst = pd.read_csv(DATASETS / "text" / "sst2.csv")
    train = sst[sst["split"] == "train"].drop_duplicates("text").reset_index(drop=True)
    results = [
        run_scenario(
            "sst2",
            train["text"].tolist(),
            train["label"].to_numpy(dtype=object),
            "text",
            ["positive", "negative"],
        )
    ]
    n = args.scale_items
    rng = np.random.default_rng(11)
    classes = ["cat", "dog", "bird", "fish"]
    results.append(
        run_scenario(
            "scale",
            [f"https://example.org/images/{k}.jpg" for k in range(n)],
            np.asarray(classes, dtype=object)[rng.integers(0, len(classes), n)],
            "image",
            classes,
        )
    )
    lines = [
        f"Machine: {machine()}. Command: `python benchmarks/quality_run.py"
        f"{'' if n == 200_000 else f' --scale-items {n}'}` (commit {git_commit()}).",
        "",
        "A whole quality run of one project on SQLite (`core.quality_runs.run_quality`, "
        "Dawid–Skene): read the labels, aggregate, agreement with 500 bootstrap replicates "
        "overall, per label and per annotator, skills, suspected errors, one write transaction. "
        f"Each item labelled by {OVERLAP} of {N_ANNOTATORS} simulated annotators with "
        "accuracies 0.60–0.95.",
        "",
        "| project | items | labels | text model | run s | of which computing s | "
        "consensus accuracy (majority vote) | suspects | suspects wrong | wrong found |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['name']} | {r['items']:,} | {r['labels']:,} | "
            f"{'yes' if r['text_model'] else 'no'} | {r['seconds']:.1f} | {r['compute']:.1f} | "
            f"{r['accuracy']:.4f} ({r['mv_accuracy']:.4f}) | {r['suspects']:,} | "
            f"{r['precision']:.2f} | {r['recall']:.2f} |"
        )
    lines += [
        "",
        "*suspects wrong*: share of the suspected items whose consensus differs from the gold "
        "label; *wrong found*: share of the items with a wrong consensus that are suspected.",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("Quality runs in the platform", body)


if __name__ == "__main__":
    sys.exit(main())
