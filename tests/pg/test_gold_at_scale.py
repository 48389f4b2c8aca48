"""PostgreSQL: 50 annotators over real HTTP, 2,000 items with overlap 3 of which 5% are gold.

Every ordinary item ends with exactly 3 answers from 3 different people, no acknowledged
submission is missing, and the gold accuracy the API reports per annotator equals a direct
computation from the stored answers and the gold answers."""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from accord.db.engine import Database
from accord.db.models import Annotation, GoldAnswer, Item
from tests.api.helpers import add_items
from tests.conftest import Actor, Factory

pytestmark = pytest.mark.pg

N_ANNOTATORS = 50
N_ITEMS = 2000
N_GOLD = 100


def test_fifty_annotators_overlap_three_with_gold(
    live_server: str, db: Database, factory: Factory
) -> None:
    admin = factory.user(admin=True)
    people = [factory.user() for _ in range(N_ANNOTATORS)]
    project = factory.project(
        admin,
        overlap=3,
        gold_rate=0.1,
        members={f"annotator{k}": p for k, p in enumerate(people)},
    )
    add_items(db, project, admin.user, [f"review number {k}" for k in range(N_ITEMS)])
    api = f"{live_server}/api/v1/projects/{project.id}"
    with db.transaction(write=False) as session:
        ids = list(session.scalars(select(Item.id).where(Item.project_id == project.id)))
    gold = {
        item_id: random.Random(item_id).choice(["positive", "negative"]) for item_id in ids[::20]
    }
    assert len(gold) == N_GOLD
    with httpx.Client(headers=admin.headers, timeout=60) as client:
        for item_id, label in gold.items():
            client.put(
                f"{api}/items/{item_id}/gold", json={"result": {"sentiment": label}}
            ).raise_for_status()

    acknowledged: list[tuple[int, int]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def annotate(actor: Actor, skill: float) -> None:
        rng = random.Random(actor.user.id)
        with httpx.Client(headers=actor.headers, timeout=60) as client:
            while True:
                lease = client.post(f"{api}/next")
                if lease.status_code == 204:
                    return
                if lease.status_code != 200:
                    errors.append(f"next {lease.status_code} {lease.text[:200]}")
                    return
                item_id = lease.json()["item"]["id"]
                truth = gold.get(item_id, "positive")
                wrong = "negative" if truth == "positive" else "positive"
                label = truth if rng.random() < skill else wrong
                done = client.post(
                    f"{api}/items/{item_id}/annotations", json={"result": {"sentiment": label}}
                )
                if done.status_code != 201:
                    errors.append(f"submit {done.status_code} {done.text[:200]}")
                    return
                with lock:
                    acknowledged.append((item_id, actor.user.id))

    skills = [0.55 + 0.45 * k / (N_ANNOTATORS - 1) for k in range(N_ANNOTATORS)]
    threads = [
        threading.Thread(target=annotate, args=(p, s)) for p, s in zip(people, skills, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=900)
    assert not errors, errors[:3]

    with db.transaction(write=False) as session:
        stored = session.execute(
            select(Annotation.item_id, Annotation.user_id, Annotation.result).where(
                Annotation.project_id == project.id, Annotation.is_latest.is_(True)
            )
        ).all()
        gold_rows = set(
            session.scalars(select(GoldAnswer.item_id).where(GoldAnswer.project_id == project.id))
        )
    assert gold_rows == set(gold)
    pairs = [(item, user) for item, user, _ in stored]
    assert len(pairs) == len(set(pairs)), "an annotator answered an item twice"
    assert sorted(pairs) == sorted(acknowledged), "an acknowledged submission is missing"
    per_item = Counter(item for item, _ in pairs if item not in gold)
    assert set(per_item) == set(ids) - set(gold)
    assert set(per_item.values()) == {3}
    gold_answers_given = [(u, r["sentiment"] == gold[i]) for i, u, r in stored if i in gold]
    assert gold_answers_given, "no gold item was served"

    expected: dict[int, list[bool]] = {}
    for user, right in gold_answers_given:
        expected.setdefault(user, []).append(right)
    with httpx.Client(headers=admin.headers, timeout=60) as client:
        reported = {r["username"]: r for r in client.get(f"{api}/gold/accuracy").json()}
    by_name = {p.user.id: p.user.username for p in people}
    assert set(reported) == {by_name[u] for u in expected}
    for user, outcomes in expected.items():
        row: dict[str, Any] = reported[by_name[user]]
        assert row["n_answers"] == len(outcomes)
        assert row["n_correct"] == sum(outcomes)
        assert row["accuracy"] == pytest.approx(sum(outcomes) / len(outcomes))
