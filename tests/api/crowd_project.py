"""A project holding real crowd labels (the first 60 items of zheng_dog), as fixtures."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from accord.core import annotations as annotation_ops
from accord.db.models import Item, Project, User
from tests.api.helpers import add_items
from tests.conftest import DATASETS, Actor, Factory

CROWD = DATASETS / "crowd" / "zheng_dog"


@pytest.fixture(scope="module")
def crowd() -> pd.DataFrame:
    labels = pd.read_csv(CROWD / "labels.csv", dtype=str)
    tasks = sorted(labels["task"].unique())[:60]
    return labels[labels["task"].isin(tasks)].reset_index(drop=True)


def schema(values: list[str]) -> dict[str, Any]:
    return {
        "fields": [{"name": "text", "type": "text"}],
        "controls": [{"name": "breed", "type": "choices", "field": "text", "labels": values}],
    }


Labeled = tuple[Project, Actor, pd.DataFrame]


def add_crowd_items(db: Any, project: Project, owner: Actor, crowd: pd.DataFrame) -> dict[str, int]:
    """One item per crowd task ("task <id>"); returns task -> item id."""
    add_items(db, project, owner.user, [f"task {t}" for t in sorted(crowd["task"].unique())])
    with db.transaction(write=False) as session:
        rows = session.execute(select(Item.id, Item.data).where(Item.project_id == project.id))
        return {data["text"].removeprefix("task "): item_id for item_id, data in rows}


def labeled_project(
    db: Any, factory: Factory, admin: Actor, crowd: pd.DataFrame, workers: dict[str, Actor]
) -> Labeled:
    """A project holding exactly the crowd's labels, a reviewer of it, and the labels as
    (item id, annotator id, label)."""
    reviewer = factory.user()
    project = factory.project(
        admin,
        schema=schema(sorted(crowd["label"].unique())),
        overlap=int(crowd.groupby("task").size().max()),
        members={"reviewer": reviewer},
    )
    item_of = add_crowd_items(db, project, admin, crowd)
    with db.transaction() as session:
        p = session.get(Project, project.id)
        assert p is not None
        for row in crowd.itertuples():
            user = session.get(User, workers[row.worker].user.id)
            assert user is not None
            annotation_ops.submit(session, p, user, item_of[row.task], {"breed": row.label})
    frame = pd.DataFrame(
        {
            "item": [item_of[t] for t in crowd["task"]],
            "annotator": [workers[w].user.id for w in crowd["worker"]],
            "label": crowd["label"],
        }
    )
    return project, reviewer, frame


@pytest.fixture()
def labeled(db: Any, factory: Factory, admin: Actor, crowd: pd.DataFrame) -> Labeled:
    workers = {w: factory.user() for w in sorted(crowd["worker"].unique())}
    return labeled_project(db, factory, admin, crowd, workers)
