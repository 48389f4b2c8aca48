"""First start: the demo project's import is checked for duplicates as every import is."""

from __future__ import annotations

import json
from importlib import resources

from sqlalchemy import select

from accord.automation import near_duplicates as nd
from accord.bootstrap import DEMO_PROJECT, ensure_demo
from accord.config import Settings
from accord.db.engine import Database
from accord.db.models import ImportBatch, Item, ItemDuplicate, Job, Project
from tests.conftest import Factory


def test_the_demo_project_is_checked_for_duplicates_like_any_import(
    db: Database, settings: Settings, factory: Factory
) -> None:
    factory.user(admin=True)
    project_id = ensure_demo(db, settings)
    assert project_id is not None
    with db.transaction(write=False) as session:
        (batch,) = session.scalars(select(ImportBatch).where(ImportBatch.project_id == project_id))
        (job,) = session.scalars(
            select(Job).where(Job.project_id == project_id, Job.kind == "duplicates")
        )
        texts = list(
            session.scalars(
                select(Item.data["text"].as_string())
                .where(Item.project_id == project_id)
                .order_by(Item.id)
            )
        )
        stored = session.scalar(
            select(ItemDuplicate.item_id).where(ItemDuplicate.project_id == project_id).limit(1)
        )
    assert job.status == "finished", job.error
    assert job.params == {"trigger": "import", "import_batch_id": batch.id}
    assert job.created_by == batch.created_by
    assert job.result is not None
    assert job.result["n_items"] == len(texts) == 300
    assert job.result["superseded_by"] is None
    sample = resources.files("accord.demo").joinpath("sst2_sample.jsonl").read_text()
    assert texts == [json.loads(line)["data"]["text"] for line in sample.splitlines()]
    # The sample holds no duplicates: the check finds none, as the library does.
    pairs = nd.text_near_duplicate_pairs(texts, 0.8).concat(nd.exact_duplicate_pairs(texts))
    assert len(pairs) == 0
    assert (job.result["n_groups"], job.result["n_redundant"], stored) == (0, 0, None)
    assert job.result["pairs"] == {"exact": 0, "text": 0}

    assert ensure_demo(db, settings) is None  # once only: no second project, no second check
    with db.transaction(write=False) as session:
        demos = list(session.scalars(select(Project.id).where(Project.name == DEMO_PROJECT)))
        checks = list(session.scalars(select(Job.id).where(Job.project_id == project_id)))
    assert (demos, checks) == ([project_id], [job.id])
