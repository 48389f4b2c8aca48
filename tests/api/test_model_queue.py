"""Pre-labels and the model-driven queue over the REST API, on real SST-2 sentences: answers
record the pre-label they were shown and whether they kept it (acceptance rates per model
version are exact), switched-off models are not shown, and the least-confidence queue serves
items in the order of the uncertainty of the stored probabilities, never an item someone else
holds or has answered; k_center follows the library's farthest-first traversal and
density_weighted the margin times the mean cosine similarity to the open items."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from accord.automation.active_learning import k_center_greedy
from accord.core import prelabels, vectors
from accord.core.schemas import parsed_schema
from accord.db.engine import Database
from accord.db.models import Annotation, Item, Project
from tests.api.helpers import add_items
from tests.api.test_model_backends import (
    create_model,
    current_predictions,
    item_ids,
    sst2_sentences,
    submit_directly,
    train,
)
from tests.conftest import TEXT_SCHEMA, Actor, Factory, sentiment_schema

OTHER = {"positive": "negative", "negative": "positive"}


def labelled_project(
    db: Database, factory: Factory, admin: Actor, n_items: int, n_labelled: int, **settings: Any
) -> tuple[Project, dict[int, str], list[Actor]]:
    """SST-2 sentences as items, the first ``n_labelled`` answered with their SST-2 label by a
    worker; returns the project, the gold labels by item and [worker, annotator, annotator2]."""
    actors = [factory.user() for _ in range(3)]
    members = {f"annotator{i}": a for i, a in enumerate(actors)}
    project = factory.project(
        admin, schema=sentiment_schema("positive", "negative"), members=members, **settings
    )
    sentences = sst2_sentences(n_items, seed=7)
    add_items(db, project, admin.user, sentences["text"].tolist())
    ids = item_ids(db, project)
    gold = {ids[t]: label for t, label in zip(sentences["text"], sentences["label"], strict=True)}
    first = sorted(gold)[:n_labelled]
    submit_directly(db, project, actors[0], {i: gold[i] for i in first})
    return project, gold, actors


def next_item(client: TestClient, project: Project, actor: Actor) -> dict[str, Any] | None:
    response = client.post(f"/api/v1/projects/{project.id}/next", headers=actor.headers)
    assert response.status_code in (200, 204), response.text
    return dict(response.json()) if response.status_code == 200 else None


def answer(client: TestClient, project: Project, actor: Actor, item_id: int, label: str) -> int:
    response = client.post(
        f"/api/v1/projects/{project.id}/items/{item_id}/annotations",
        json={"result": {"sentiment": label}},
        headers=actor.headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def acceptance(client: TestClient, project: Project, actor: Actor) -> dict[str, Any]:
    rows = client.get(f"/api/v1/projects/{project.id}/models/acceptance", headers=actor.headers)
    assert rows.status_code == 200, rows.text
    return {r["model_version"]: r for r in rows.json()}


def test_answers_record_the_pre_label_and_whether_they_kept_it(
    client: TestClient, db: Database, admin: Actor, factory: Factory
) -> None:
    project, _, (worker, annotator, _) = labelled_project(db, factory, admin, 70, 40)
    model = create_model(client, project, admin)
    v1 = train(client, project, admin, model["id"])["result"]["version"]
    current = current_predictions(db, model["id"])

    given: dict[int, tuple[int, bool]] = {}
    for keep in (True, True, True, False, False):
        lease = next_item(client, project, annotator)
        assert lease is not None
        item_id = lease["item"]["id"]
        shown = lease["predictions"][0]
        assert shown["id"] == current[item_id].id and shown["model_version"] == v1
        label = shown["result"]["sentiment"]
        annotation = answer(client, project, annotator, item_id, label if keep else OTHER[label])
        given[annotation] = (shown["id"], keep)
    with db.transaction(write=False) as session:
        stored = session.scalars(select(Annotation).where(Annotation.id.in_(given))).all()
        assert {a.id: (a.prediction_id, a.prelabel_accepted) for a in stored} == given
    assert acceptance(client, project, admin) == {
        v1: {
            "model_name": "clf",
            "model_version": v1,
            "n_prelabelled": 5,
            "n_accepted": 3,
            "rate": 0.6,
        }
    }

    # A new version (trained on 45 labels now): the answers to the old one keep their link.
    v2 = train(client, project, admin, model["id"])["result"]["version"]
    assert v2 != v1
    for keep in (True, False):
        lease = next_item(client, project, annotator)
        assert lease is not None and lease["predictions"][0]["model_version"] == v2
        label = lease["predictions"][0]["result"]["sentiment"]
        answer(client, project, annotator, lease["item"]["id"], label if keep else OTHER[label])
    rates = acceptance(client, project, admin)
    assert {v: (r["n_prelabelled"], r["n_accepted"], r["rate"]) for v, r in rates.items()} == {
        v1: (5, 3, 0.6),
        v2: (2, 1, 0.5),
    }

    # Switched off, a model's pre-labels are neither shown nor recorded.
    client.patch(
        f"/api/v1/projects/{project.id}/models/{model['id']}",
        json={"active": False},
        headers=admin.headers,
    )
    lease = next_item(client, project, worker)
    assert lease is not None and lease["predictions"] == []
    plain = answer(client, project, worker, lease["item"]["id"], "positive")
    with db.transaction(write=False) as session:
        row = session.get(Annotation, plain)
        assert row is not None and (row.prediction_id, row.prelabel_accepted) == (None, None)
    assert len(acceptance(client, project, admin)) == 2


def test_acceptance_compares_choices_and_spans_as_sets() -> None:
    schema = parsed_schema(
        TEXT_SCHEMA
        | {
            "controls": [
                *TEXT_SCHEMA["controls"],
                {
                    "name": "tags",
                    "type": "choices",
                    "field": "text",
                    "multiple": True,
                    "labels": ["a", "b", "c"],
                },
            ]
        }
    )
    spans = [
        {"label": "PER", "start": 0, "end": 5, "id": "m1"},
        {"label": "ORG", "start": 10, "end": 14, "id": "m2"},
    ]
    answered = [
        {"label": "ORG", "start": 10, "end": 14, "id": "x", "text": "Navy"},
        {"label": "PER", "start": 0, "end": 5, "id": "y", "text": "Grace"},
    ]
    assert prelabels.accepts(schema, {"entities": spans}, {"entities": answered, "sentiment": "x"})
    moved = [answered[0], answered[1] | {"end": 6}]
    assert not prelabels.accepts(schema, {"entities": spans}, {"entities": moved})
    assert not prelabels.accepts(schema, {"entities": spans}, {"entities": answered[:1]})
    assert prelabels.accepts(schema, {"tags": ["a", "b"]}, {"tags": ["b", "a"]})
    assert not prelabels.accepts(schema, {"tags": ["a", "b"]}, {"tags": ["a"]})
    assert prelabels.accepts(schema, {"sentiment": "positive"}, {"sentiment": "positive"})
    assert not prelabels.accepts(schema, {"sentiment": "positive"}, {"sentiment": "negative"})
    assert not prelabels.accepts(schema, {"sentiment": "positive"}, {})


def test_the_least_confidence_queue_follows_the_stored_uncertainty(
    client: TestClient, db: Database, admin: Actor, factory: Factory
) -> None:
    project, _, (worker, annotator, other) = labelled_project(
        db, factory, admin, 90, 50, strategy="least_confidence"
    )
    # Without scores the model strategies give items out in import order.
    first = next_item(client, project, worker)
    assert first is not None
    open_ids = sorted(set(item_ids(db, project).values()))[50:]
    assert first["item"]["id"] == open_ids[0]
    released = client.post(
        f"/api/v1/projects/{project.id}/items/{open_ids[0]}/release", headers=worker.headers
    )
    assert released.status_code == 204

    model = create_model(client, project, admin)
    job = train(client, project, admin, model["id"])
    assert job["result"]["queue_scores"] == {
        "strategy": "least_confidence",
        "model_name": "clf",
        "n_open": 40,
        "n_scored": 40,
    }
    stored = current_predictions(db, model["id"])
    uncertainty = {i: 1.0 - max((p.probas or {}).values()) for i, p in stored.items()}
    expected = sorted(uncertainty, key=lambda i: (-uncertainty[i], i))
    with db.transaction(write=False) as session:
        scores = dict(
            session.execute(
                select(Item.id, Item.queue_score).where(Item.project_id == project.id)
            ).all()
        )
    assert {i: scores[i] for i in expected} == pytest.approx(uncertainty)

    # Another annotator holds the most uncertain item; one the annotator never gets.
    held = next_item(client, project, other)
    assert held is not None and held["item"]["id"] == expected[0]
    served = []
    while (lease := next_item(client, project, annotator)) is not None:
        served.append(lease["item"]["id"])
        answer(client, project, annotator, lease["item"]["id"], "positive")
    assert served == expected[1:]
    still = next_item(client, project, other)  # still theirs, still leased
    assert still is not None and still["item"]["id"] == held["item"]["id"]


def test_queue_scores_need_a_model_strategy_and_a_model(
    client: TestClient, db: Database, admin: Actor, factory: Factory
) -> None:
    project, _, _ = labelled_project(db, factory, admin, 30, 10)
    path = f"/api/v1/projects/{project.id}/models/queue-scores"
    refused = client.post(path, json={}, headers=admin.headers)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "strategy", "rule": "model_strategy"}]
    client.patch(
        f"/api/v1/projects/{project.id}", json={"strategy": "entropy"}, headers=admin.headers
    )
    refused = client.post(path, json={}, headers=admin.headers)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "strategy", "rule": "needs_model"}]
    unknown = client.patch(
        f"/api/v1/projects/{project.id}", json={"strategy": "most_fun"}, headers=admin.headers
    )
    assert unknown.status_code == 422


def test_the_k_center_queue_follows_the_farthest_first_traversal(
    client: TestClient, db: Database, admin: Actor, factory: Factory
) -> None:
    project, _, (_, annotator, _) = labelled_project(
        db, factory, admin, 80, 20, strategy="k_center"
    )
    with db.transaction() as session:
        p = session.get(Project, project.id)
        assert p is not None
        vectors.embed_project(session, p)
    done = client.post(
        f"/api/v1/projects/{project.id}/models/queue-scores",
        json={"budget": 8},
        headers=admin.headers,
    )
    assert done.status_code == 200, done.text
    assert done.json()["n_scored"] == 60
    with db.transaction(write=False) as session:
        p = session.get(Project, project.id)
        assert p is not None
        ids, matrix = vectors.load_vectors(session, p)
        status = dict(session.execute(select(Item.id, Item.status)).all())
    labeled = np.array([status[int(i)] != "open" for i in ids])
    expected = [int(ids[r]) for r in k_center_greedy(matrix, labeled, 8)]
    served = []
    for _ in range(8):
        lease = next_item(client, project, annotator)
        assert lease is not None
        served.append(lease["item"]["id"])
        answer(client, project, annotator, lease["item"]["id"], "negative")
    assert served == expected


def test_the_density_weighted_queue_weights_the_margin_by_the_similarity_to_the_open_items(
    client: TestClient, db: Database, admin: Actor, factory: Factory
) -> None:
    project, _, (_, annotator, _) = labelled_project(
        db, factory, admin, 80, 30, strategy="density_weighted"
    )
    with db.transaction() as session:
        p = session.get(Project, project.id)
        assert p is not None
        vectors.embed_project(session, p)
    model = create_model(client, project, admin)
    job = train(client, project, admin, model["id"])
    assert job["result"]["queue_scores"] == {
        "strategy": "density_weighted",
        "model_name": "clf",
        "n_open": 50,
        "n_scored": 50,
    }
    stored = current_predictions(db, model["id"])
    with db.transaction(write=False) as session:
        p = session.get(Project, project.id)
        assert p is not None
        ids, matrix = vectors.load_vectors(session, p)
        status = dict(session.execute(select(Item.id, Item.status)).all())
        scores = dict(
            session.execute(
                select(Item.id, Item.queue_score).where(Item.project_id == project.id)
            ).all()
        )
    by_id = {int(i): matrix[r].astype(np.float64) for r, i in enumerate(ids)}
    open_ids = [i for i in sorted(by_id) if status[i] == "open"]
    assert len(open_ids) == 50

    def cosine(a: int, b: int) -> float:
        va, vb = by_id[a], by_id[b]
        return float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))

    margin, expected = {}, {}
    for i in open_ids:
        probas = stored[i].probas or {}
        margin[i] = 1.0 - abs(probas["positive"] - probas["negative"])
        density = max(0.0, sum(cosine(i, j) for j in open_ids) / len(open_ids))
        expected[i] = margin[i] * density
    assert {i: scores[i] for i in open_ids} == pytest.approx(expected, rel=1e-5)
    assert all(scores[i] is None for i in by_id if status[i] != "open")
    order = sorted(open_ids, key=lambda i: (-expected[i], i))
    # the density changes the order that the margin alone would give
    assert order[:10] != sorted(open_ids, key=lambda i: (-margin[i], i))[:10]
    served = []
    for _ in range(10):
        lease = next_item(client, project, annotator)
        assert lease is not None
        served.append(lease["item"]["id"])
        answer(client, project, annotator, lease["item"]["id"], "negative")
    assert served == order[:10]
