"""Deleting rows of a 500,000-item project: pre-labels a model replaces or drops, duplicate items
dropped with their pre-labels, and the pre-label acceptance table.

    python benchmarks/deletes_500k.py [--items 500000] [--added 400] [--data-dir DIR] [--no-write]

The project is the one of leaderboard.py, export.py and pages_500k.py (``_project_500k.py``:
1.5 million answers, 150,000 verdicts, a consensus per item). ``--added`` new items are imported
(open, unannotated) and then, each step timed in the process, on SQLite:

1. a model (a registered backend answering every item with one label) predicts them;
2. it predicts again: the new pre-labels replace the old ones, which are deleted;
3. the acceptance table of the project's models (``prelabels.acceptance``);
4. the model is deleted with its pre-labels;
5. a second model predicts them, the new items are marked duplicates of the first ones of the
   project and dropped (``duplicate_actions.drop``), their pre-labels with them.

Each deleted pre-label makes the database look for the answers that were given with it, and each
deleted item for its consensus, labels and other rows that refer to it. The project is left as
it was found (the added items and the models are gone).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from _common import write_section
from _project_500k import arguments, header, opened
from sqlalchemy import func, insert, select

from accord.automation.backends import BackendSpec, ModelPrediction, Task, register_backend
from accord.core import duplicate_actions, imports, model_backends, prelabels
from accord.core.model_training import run_model
from accord.db.engine import Database
from accord.db.models import Item, ItemDuplicate, Prediction, Project, User
from accord.io.readers import read_records_from_objects

KIND = "bench_constant"


class Constant:
    """Answers every item with the control's first label."""

    kind = KIND
    trainable = False
    needs_vectors = False
    version = "1"

    def __init__(self, spec: BackendSpec) -> None:
        self.spec = spec

    def fit(self, examples: Sequence[Any]) -> str:
        return self.version

    def predict(self, tasks: Sequence[Task]) -> list[ModelPrediction]:
        label = self.spec.labels[0]
        return [ModelPrediction(t.item_id, {self.spec.control: label}, 0.9) for t in tasks]


def timed(step: Callable[[], Any]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def main() -> None:
    parser = arguments()
    parser.add_argument("--added", type=int, default=400)
    args = parser.parse_args()
    register_backend(KIND, Constant)
    with opened(args) as (_, db, project_id, sizes):
        rows = run(db, project_id, args.added)
    body = report(args, sizes, rows)
    print(body)
    if not args.no_write:
        write_section(f"Deleting pre-labels and items, {sizes['items']:,} items", body)


def run(db: Database, project_id: int, n: int) -> list[tuple[str, float]]:
    with db.transaction() as session:
        project, admin = _load(session, project_id)
        first = list(
            session.scalars(
                select(Item.id).where(Item.project_id == project_id).order_by(Item.id).limit(n)
            )
        )
        objects = [{"data": {"text": f"added item {k}"}, "meta": {}} for k in range(n)]
        imports.import_records(
            session,
            project,
            admin,
            read_records_from_objects(objects),
            source="bench",
            format="json",
        )
    with db.transaction(write=False) as session:
        added = list(
            session.scalars(
                select(Item.id).where(Item.project_id == project_id, Item.status == "open")
            )
        )
    assert len(added) == n, f"{len(added)} open items, expected the {n} added"
    rows = []

    def model(name: str) -> int:
        with db.transaction() as session:
            project, admin = _load(session, project_id)
            row = model_backends.create(
                session, project, name=name, kind=KIND, control="sentiment", actor_id=admin.id
            )
            return row.id

    def remove(backend_id: int) -> None:
        with db.transaction() as session:
            project, admin = _load(session, project_id)
            row = model_backends.get(session, project, backend_id)
            model_backends.remove(session, project, row, actor_id=admin.id)

    def acceptance() -> None:
        with db.transaction(write=False) as session:
            project, _ = _load(session, project_id)
            prelabels.acceptance(session, project)

    def drop() -> None:
        with db.transaction() as session:
            project, admin = _load(session, project_id)
            groups = [(r, r) for r in first] + list(zip(added, first, strict=True))
            session.execute(
                insert(ItemDuplicate),
                [
                    {
                        "item_id": item,
                        "project_id": project_id,
                        "group_id": group,
                        "method": "exact",
                        "similarity": 1.0,
                    }
                    for item, group in groups
                ],
            )
            result = duplicate_actions.drop(session, project, None, actor_id=admin.id)
            assert sorted(result.changed) == sorted(added), "not every added item was dropped"

    one = model("bench-one")
    predict = partial(run_model, db, one)
    rows.append((f"a model predicts the {n:,} new items", timed(predict)))
    rows.append((f"it predicts again, replacing {n:,} pre-labels", timed(predict)))
    rows.append(("the acceptance table of the project's models", timed(acceptance)))
    rows.append((f"the model is deleted with its {n:,} pre-labels", timed(lambda: remove(one))))
    two = model("bench-two")
    run_model(db, two)
    rows.append((f"{n:,} duplicate items dropped with their pre-labels", timed(drop)))
    remove(two)
    with db.transaction(write=False) as session:
        left = session.scalar(select(func.count()).where(Prediction.project_id == project_id))
        assert left == 0, f"{left} pre-labels left"
    for label, seconds in rows:
        print(f"{label}: {seconds:.3f} s", file=sys.stderr)
    return rows


def _load(session: Any, project_id: int) -> tuple[Project, User]:
    project = session.get(Project, project_id)
    admin = session.scalar(select(User).where(User.username == "admin"))
    assert project is not None and admin is not None
    return project, admin


def report(args: argparse.Namespace, sizes: dict[str, int], rows: list[tuple[str, float]]) -> str:
    lines = [
        header("deletes_500k.py", args, "" if args.added == 400 else f" --added {args.added}"),
        "",
        f"The project of the leaderboard, export and pages benchmarks: {sizes['items']:,} items, "
        f"{sizes['annotations']:,} answer rows, {sizes['reviews']:,} verdicts, "
        f"{sizes['consensus']:,} consensus rows; SQLite, in the process, one run.",
        "",
        "| step | seconds |",
        "|---|---:|",
    ]
    lines += [f"| {label} | {seconds:.3f} |" for label, seconds in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
