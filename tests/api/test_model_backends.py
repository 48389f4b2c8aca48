"""Models in the loop over the REST API, on real SST-2 sentences: a text classifier trained on
human labels pre-labels every open item (accuracy on the SST-2 gold of those items), backends
are validated by building them, managed by managers only, retrained after K new labels by the
schedule, and an unreachable external model records its error and keeps the old pre-labels."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from accord.core import annotations as annotation_ops
from accord.core import model_backends
from accord.db.engine import Database
from accord.db.models import AuditEvent, Item, Job, Prediction, Project, User
from accord.db.models import ModelBackend as BackendRow
from accord.jobs.schedule import queue_due_retrains
from tests.api.helpers import SST2, add_items, wait_for_job
from tests.conftest import TEXT_SCHEMA, Actor, Factory, free_port, sentiment_schema


def sst2_sentences(n: int, *, seed: int = 0, min_words: int = 10) -> pd.DataFrame:
    """``n`` distinct SST-2 training sentences of at least ``min_words`` words (text, label)."""
    frame = pd.read_csv(SST2)
    frame = frame[(frame["split"] == "train") & (frame["text"].str.split().str.len() >= min_words)]
    frame = frame.drop_duplicates("text")
    return frame.sample(n, random_state=seed)[["text", "label"]].reset_index(drop=True)


def item_ids(db: Database, project: Project) -> dict[str, int]:
    """text -> item id."""
    with db.transaction(write=False) as session:
        rows = session.execute(select(Item.data, Item.id).where(Item.project_id == project.id))
        return {data["text"]: item_id for data, item_id in rows}


def submit_directly(
    db: Database, project: Project, actor: Actor, labels: dict[int, str], control: str = "sentiment"
) -> None:
    """Human answers through the core (the same code the API calls), for bulk set-ups."""
    with db.transaction() as session:
        p = session.get(Project, project.id)
        user = session.get(User, actor.user.id)
        assert p is not None and user is not None
        for item_id, label in labels.items():
            annotation_ops.submit(session, p, user, item_id, {control: label})


def label_over_http(
    client: TestClient, project: Project, actor: Actor, gold: dict[int, str], n: int
) -> list[int]:
    """The annotator asks for ``n`` items and answers each with its SST-2 label."""
    done = []
    for _ in range(n):
        lease = client.post(f"/api/v1/projects/{project.id}/next", headers=actor.headers)
        assert lease.status_code == 200, lease.text
        item_id = lease.json()["item"]["id"]
        answer = client.post(
            f"/api/v1/projects/{project.id}/items/{item_id}/annotations",
            json={"result": {"sentiment": gold[item_id]}},
            headers=actor.headers,
        )
        assert answer.status_code == 201, answer.text
        done.append(item_id)
    return done


def create_model(client: TestClient, project: Project, actor: Actor, **body: Any) -> dict[str, Any]:
    body = {"name": "clf", "kind": "text_classifier", "control": "sentiment"} | body
    response = client.post(
        f"/api/v1/projects/{project.id}/models", json=body, headers=actor.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def train(
    client: TestClient, project: Project, actor: Actor, backend_id: int, mode: str = "train"
) -> dict[str, Any]:
    started = client.post(
        f"/api/v1/projects/{project.id}/models/{backend_id}/jobs",
        json={"mode": mode},
        headers=actor.headers,
    )
    assert started.status_code == 202, started.text
    assert started.json()["kind"] == "model_train"
    return wait_for_job(client, started.json()["id"], actor.headers)


def current_predictions(db: Database, backend_id: int) -> dict[int, Prediction]:
    """The newest prediction of the backend per item."""
    with db.transaction(write=False) as session:
        rows = session.scalars(
            select(Prediction).where(Prediction.backend_id == backend_id).order_by(Prediction.id)
        ).all()
        return {p.item_id: p for p in rows}


@pytest.fixture()
def sentiment_project(factory: Factory, admin: Actor) -> tuple[Project, Actor]:
    annotator = factory.user()
    project = factory.project(
        admin, schema=sentiment_schema("positive", "negative"), members={"annotator": annotator}
    )
    return project, annotator


def test_a_text_classifier_trained_on_human_labels_pre_labels_every_open_item(
    client: TestClient, db: Database, admin: Actor, sentiment_project: tuple[Project, Actor]
) -> None:
    project, annotator = sentiment_project
    sentences = sst2_sentences(2100, seed=0)
    add_items(db, project, admin.user, sentences["text"].tolist())
    ids = item_ids(db, project)
    gold = {ids[t]: label for t, label in zip(sentences["text"], sentences["label"], strict=True)}
    # 200 answers through the annotator's loop over HTTP, then 1,400 more through the core.
    over_http = label_over_http(client, project, annotator, gold, 200)
    rest = [i for i in sorted(gold) if i not in set(over_http)][:1400]
    submit_directly(db, project, annotator, {i: gold[i] for i in rest})
    labelled = set(over_http) | set(rest)

    backend = create_model(client, project, admin, config={"C": 10.0})
    assert backend["version"] == "" and backend["fitted_at"] is None
    job = train(client, project, admin, backend["id"])
    assert job["status"] == "finished", job["error"]
    result = job["result"]
    open_items = set(gold) - labelled
    assert (result["n_examples"], result["labels_at_fit"]) == (1600, 1600)
    assert (result["n_items"], result["n_predictions"], result["n_invalid"]) == (500, 500, 0)

    row = client.get(
        f"/api/v1/projects/{project.id}/models/{backend['id']}", headers=admin.headers
    ).json()
    assert row["version"] == result["version"] != ""
    assert row["labels_at_fit"] == 1600 and row["fitted_at"] is not None and row["error"] is None
    assert result["search"] is None and row["state"]["search"] is None  # searches nothing

    stored = current_predictions(db, backend["id"])
    assert set(stored) == open_items
    for p in stored.values():
        assert (p.model_name, p.model_version) == ("clf", row["version"])
        assert set(p.probas or {}) == {"positive", "negative"}
        assert sum((p.probas or {}).values()) == pytest.approx(1.0)
        label = p.result["sentiment"]
        assert p.score == pytest.approx((p.probas or {})[label])
        assert (p.probas or {})[label] == max((p.probas or {}).values())
    accuracy = sum(stored[i].result["sentiment"] == gold[i] for i in open_items) / len(open_items)
    assert accuracy > 0.7

    # The queue now shows the pre-label with the next item.
    lease = client.post(f"/api/v1/projects/{project.id}/next", headers=annotator.headers).json()
    shown = lease["predictions"][0]
    assert shown["id"] == stored[lease["item"]["id"]].id
    assert shown["model_version"] == row["version"]

    # Training again on the same labels gives the same model; its older rows are replaced
    # (no answer points at any of them yet).
    again = train(client, project, admin, backend["id"])
    assert again["result"]["version"] == row["version"]
    with db.transaction(write=False) as session:
        kept = session.scalars(
            select(Prediction.item_id).where(Prediction.backend_id == backend["id"])
        ).all()
    assert sorted(kept) == sorted(open_items)


def test_a_knn_model_says_whether_it_searches_exactly_or_approximately(
    client: TestClient, db: Database, admin: Actor, sentiment_project: tuple[Project, Actor]
) -> None:
    """Beyond its exact limit (lowered here to 100 labelled items) a knn model searches the
    approximate usearch index: its training job's result and its stored state say so."""
    pytest.importorskip("usearch")
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    project, annotator = sentiment_project
    sentences = sst2_sentences(600, seed=1)
    add_items(db, project, admin.user, sentences["text"].tolist())
    ids = item_ids(db, project)
    tfidf = TfidfVectorizer(sublinear_tf=True).fit_transform(sentences["text"])
    vectors = TruncatedSVD(n_components=32, random_state=0).fit_transform(tfidf)
    by_item = {str(ids[t]): v.tolist() for t, v in zip(sentences["text"], vectors, strict=True)}
    stored = client.put(
        f"/api/v1/projects/{project.id}/vectors/tfidf",
        json={"vectors": by_item},
        headers=admin.headers,
    )
    assert stored.status_code == 200, stored.text
    gold = {ids[t]: label for t, label in zip(sentences["text"], sentences["label"], strict=True)}
    submit_directly(db, project, annotator, {i: gold[i] for i in sorted(gold)[:400]})

    searches = {}
    for name, config in (("exact", {}), ("approximate", {"exact_limit": 100})):
        model = create_model(client, project, admin, name=name, kind="knn", config=config)
        job = train(client, project, admin, model["id"])
        assert job["status"] == "finished", job["error"]
        assert (job["result"]["n_examples"], job["result"]["n_predictions"]) == (400, 200)
        row = client.get(
            f"/api/v1/projects/{project.id}/models/{model['id']}", headers=admin.headers
        ).json()
        assert row["state"]["search"] == job["result"]["search"]
        searches[name] = (job["result"]["search"], row["version"])
    assert searches["exact"][0] == "exact"
    assert searches["approximate"][0] == "usearch"
    assert searches["exact"][1] != searches["approximate"][1]


def test_a_bad_configuration_is_a_422_naming_the_field(
    client: TestClient, admin: Actor, factory: Factory
) -> None:
    project = factory.project(admin, schema=TEXT_SCHEMA)
    api = f"/api/v1/projects/{project.id}/models"
    cases = [
        ({"kind": "text_classifier", "control": "sentiment", "config": {"C": -1}}, "config.C"),
        ({"kind": "text_classifier", "control": "sentiment", "config": {"Cee": 1}}, "config.Cee"),
        ({"kind": "text_classifier", "control": "entities"}, "control"),
        ({"kind": "text_classifier", "control": "missing"}, "control"),
        ({"kind": "no_such_kind", "control": "sentiment"}, "kind"),
        ({"kind": "http", "control": "sentiment", "config": {}}, "config.url"),
        ({"kind": "http", "control": "sentiment", "config": {"url": "ftp://x"}}, "config.url"),
        ({"kind": "pattern_ner", "control": "entities", "config": {}}, "config.patterns"),
        ({"kind": "text_classifier", "control": "sentiment", "retrain_every": -1}, "retrain_every"),
    ]
    for body, field in cases:
        response = client.post(api, json={"name": "m"} | body, headers=admin.headers)
        assert response.status_code == 422, (body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (body, response.json())
    assert client.get(api, headers=admin.headers).json() == []

    made = create_model(client, project, admin, name="m")
    duplicate = client.post(
        api, json={"name": "m", "kind": "knn", "control": "sentiment"}, headers=admin.headers
    )
    assert duplicate.status_code == 409
    bad_patch = client.patch(
        f"{api}/{made['id']}", json={"config": {"C": 0}}, headers=admin.headers
    )
    assert bad_patch.status_code == 422
    assert [e["field"] for e in bad_patch.json()["errors"]] == ["config.C"]
    unchanged = client.get(f"{api}/{made['id']}", headers=admin.headers).json()
    assert unchanged["config"] == {}


def test_only_managers_manage_models_and_every_change_is_audited(
    client: TestClient, db: Database, admin: Actor, factory: Factory
) -> None:
    annotator, reviewer, manager = factory.user(), factory.user(), factory.user()
    project = factory.project(
        admin,
        schema=TEXT_SCHEMA,
        members={"annotator": annotator, "reviewer": reviewer, "manager": manager},
    )
    api = f"/api/v1/projects/{project.id}/models"
    body = {"name": "clf", "kind": "text_classifier", "control": "sentiment"}
    for actor in (annotator, reviewer):
        assert client.post(api, json=body, headers=actor.headers).status_code == 403
        assert client.get(api, headers=actor.headers).status_code == 403
    made = create_model(client, project, manager, retrain_every=50)
    for actor in (annotator, reviewer):
        path = f"{api}/{made['id']}"
        assert client.patch(path, json={"active": False}, headers=actor.headers).status_code == 403
        assert client.delete(path, headers=actor.headers).status_code == 403
        jobs = client.post(f"{path}/jobs", json={}, headers=actor.headers)
        assert jobs.status_code == 403
    assert client.get(f"{api}/acceptance", headers=annotator.headers).status_code == 403
    assert client.get(f"{api}/acceptance", headers=reviewer.headers).status_code == 200

    changed = client.patch(
        f"{api}/{made['id']}",
        json={"name": "sentiment-clf", "retrain_every": 20, "active": False},
        headers=manager.headers,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["retrain_every"]) == ("sentiment-clf", 20)
    assert changed.json()["active"] is False
    listed = client.get(api, headers=manager.headers).json()
    assert [m["name"] for m in listed] == ["sentiment-clf"]
    assert client.delete(f"{api}/{made['id']}", headers=manager.headers).status_code == 204
    assert client.get(f"{api}/{made['id']}", headers=manager.headers).status_code == 404
    with db.transaction(write=False) as session:
        actions = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.project_id == project.id, AuditEvent.entity == "model_backend")
            .order_by(AuditEvent.id)
        ).all()
    assert actions == ["model.create", "model.update", "model.delete"]


def test_a_model_is_retrained_after_k_new_labels_and_not_before(
    client: TestClient, db: Database, admin: Actor, sentiment_project: tuple[Project, Actor]
) -> None:
    project, annotator = sentiment_project
    sentences = sst2_sentences(120, seed=3)
    add_items(db, project, admin.user, sentences["text"].tolist())
    ids = item_ids(db, project)
    gold = {ids[t]: label for t, label in zip(sentences["text"], sentences["label"], strict=True)}
    order = sorted(gold)
    submit_directly(db, project, annotator, {i: gold[i] for i in order[:40]})
    backend = create_model(client, project, admin, retrain_every=10)
    runner = client.app.state.runner  # type: ignore[attr-defined]

    def due() -> bool:
        with db.transaction(write=False) as session:
            return backend["id"] in model_backends.due_retrains(session)

    assert due()  # never trained, 40 labels >= 10: the first fit is due
    first = queue_due_retrains(db, runner)
    assert len(first) == 1
    assert queue_due_retrains(db, runner) == []  # its job is waiting or running, or done
    job = wait_for_job(client, first[0], admin.headers)
    assert job["status"] == "finished", job["error"]
    assert job["result"]["labels_at_fit"] == 40
    first_version = job["result"]["version"]
    assert not due() and queue_due_retrains(db, runner) == []

    submit_directly(db, project, annotator, {i: gold[i] for i in order[40:49]})  # 9 new labels
    assert not due() and queue_due_retrains(db, runner) == []
    submit_directly(db, project, annotator, {order[49]: gold[order[49]]})  # the 10th
    assert due()
    (second,) = queue_due_retrains(db, runner)
    with db.transaction(write=False) as session:
        queued = session.get(Job, second)
        assert queued is not None
        assert queued.params == {
            "backend_id": backend["id"],
            "mode": "train",
            "trigger": "new labels",
        }
    job = wait_for_job(client, second, admin.headers)
    assert job["status"] == "finished", job["error"]
    assert job["result"]["labels_at_fit"] == 50 and job["result"]["n_examples"] == 50
    assert job["result"]["version"] != first_version and not due()

    # Switched off, or with retrain_every 0, a model is never retrained by the schedule.
    submit_directly(db, project, annotator, {i: gold[i] for i in order[50:70]})
    path = f"/api/v1/projects/{project.id}/models/{backend['id']}"
    client.patch(path, json={"active": False}, headers=admin.headers)
    assert not due()
    client.patch(path, json={"active": True, "retrain_every": 0}, headers=admin.headers)
    assert not due()
    client.patch(path, json={"retrain_every": 20}, headers=admin.headers)
    assert due()


class ModelServer:
    """A real model server on loopback speaking the http backend's protocol: "positive" when the
    text holds "good", else "negative"."""

    def __init__(self) -> None:
        self.version = "kw-1"
        self.fits = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._send({"status": "ok", "model_version": owner.version})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if self.path.endswith("/fit"):
                    owner.fits += 1
                    self._send({"model_version": owner.version})
                    return
                predictions = []
                for task in body["tasks"]:
                    good = "good" in task["data"]["text"]
                    p = 0.8 if good else 0.3
                    predictions.append(
                        {
                            "id": task["id"],
                            "result": {"sentiment": "positive" if good else "negative"},
                            "score": max(p, 1 - p),
                            "probas": {"positive": p, "negative": 1 - p},
                        }
                    )
                self._send({"model_version": owner.version, "predictions": predictions})

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture()
def model_server() -> Iterator[ModelServer]:
    server = ModelServer()
    yield server
    if server.thread.is_alive():
        server.stop()


def test_an_unreachable_external_model_records_its_error_and_keeps_the_old_pre_labels(
    client: TestClient,
    db: Database,
    admin: Actor,
    sentiment_project: tuple[Project, Actor],
    model_server: ModelServer,
) -> None:
    project, annotator = sentiment_project
    texts = ["a good film", "a dull film", "good acting", "bad acting", "good and bad"]
    add_items(db, project, admin.user, texts)
    ids = item_ids(db, project)
    submit_directly(db, project, annotator, {ids["bad acting"]: "negative"})
    backend = create_model(
        client, project, admin, name="remote", kind="http", config={"url": model_server.url}
    )
    job = train(client, project, admin, backend["id"])
    assert job["status"] == "finished", job["error"]
    assert model_server.fits == 1 and job["result"]["version"] == "kw-1"
    before = {i: (p.id, p.result) for i, p in current_predictions(db, backend["id"]).items()}
    assert before == {
        ids["a good film"]: (before[ids["a good film"]][0], {"sentiment": "positive"}),
        ids["a dull film"]: (before[ids["a dull film"]][0], {"sentiment": "negative"}),
        ids["good acting"]: (before[ids["good acting"]][0], {"sentiment": "positive"}),
        ids["good and bad"]: (before[ids["good and bad"]][0], {"sentiment": "positive"}),
    }

    model_server.stop()  # the port is closed now
    failed = train(client, project, admin, backend["id"])
    assert failed["status"] == "failed"
    assert "cannot be reached" in failed["error"]
    row = client.get(
        f"/api/v1/projects/{project.id}/models/{backend['id']}", headers=admin.headers
    ).json()
    assert "cannot be reached" in row["error"] and str(model_server.port) in row["error"]
    assert row["version"] == "kw-1"
    after = {i: (p.id, p.result) for i, p in current_predictions(db, backend["id"]).items()}
    assert after == before

    # The schedule does not call the broken server again until new labels arrive.
    path = f"/api/v1/projects/{project.id}/models/{backend['id']}"
    client.patch(path, json={"retrain_every": 1}, headers=admin.headers)
    with db.transaction(write=False) as session:
        assert backend["id"] not in model_backends.due_retrains(session)
    submit_directly(db, project, annotator, {ids["a dull film"]: "negative"})
    with db.transaction(write=False) as session:
        assert backend["id"] in model_backends.due_retrains(session)
    client.patch(path, json={"retrain_every": 0}, headers=admin.headers)

    # A model pointing at a closed port from the start fails the same way and stores nothing.
    closed = create_model(
        client,
        project,
        admin,
        name="nowhere",
        kind="http",
        config={"url": f"http://127.0.0.1:{free_port()}", "trainable": False},
    )
    failed = train(client, project, admin, closed["id"], mode="predict")
    assert failed["status"] == "failed" and "cannot be reached" in failed["error"]
    assert current_predictions(db, closed["id"]) == {}
    with db.transaction(write=False) as session:
        stored = session.get(BackendRow, closed["id"])
        assert stored is not None and "cannot be reached" in (stored.error or "")


def test_a_pattern_model_predicts_spans_without_training(
    client: TestClient, db: Database, admin: Actor, factory: Factory
) -> None:
    project = factory.project(admin, schema=TEXT_SCHEMA)
    texts = ["Grace Hopper worked for the Navy.", "The navy and IBM.", "Nothing here."]
    add_items(db, project, admin.user, texts)
    ids = item_ids(db, project)
    config = {"patterns": [{"label": "ORG", "phrases": ["Navy", "IBM"]}]}
    backend = create_model(
        client, project, admin, name="orgs", kind="pattern_ner", control="entities", config=config
    )
    refused = client.post(
        f"/api/v1/projects/{project.id}/models/{backend['id']}/jobs",
        json={"mode": "predict"},
        headers=admin.headers,
    )
    assert refused.status_code == 202  # a pattern model does not learn: predict is its mode
    job = wait_for_job(client, refused.json()["id"], admin.headers)
    assert job["status"] == "finished", job["error"]
    stored = current_predictions(db, backend["id"])
    spans = {
        i: sorted((s["label"], s["start"], s["end"]) for s in p.result["entities"])
        for i, p in stored.items()
    }
    assert spans[ids["Grace Hopper worked for the Navy."]] == [("ORG", 28, 32)]
    assert spans[ids["The navy and IBM."]] == [("ORG", 4, 8), ("ORG", 13, 16)]
    assert spans.get(ids["Nothing here."], []) == []

    clf = create_model(client, project, admin, name="clf")
    refused = client.post(
        f"/api/v1/projects/{project.id}/models/{clf['id']}/jobs",
        json={"mode": "predict"},
        headers=admin.headers,
    )
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "mode", "rule": "trainable"}]
