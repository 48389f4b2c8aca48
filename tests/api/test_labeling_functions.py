"""Weak supervision over HTTP on real SST-2 sentences: labeling functions are checked like any
input (a bad regular expression is a 422 naming ``config.pattern``), a run stores exactly the
labels of the label model fitted directly on the same label matrix, its summary equals
``lf_summary`` against the project's gold answers and against the human labels, the stored
labels reach annotators as pre-labels, and only managers may do any of it."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from accord.automation.weak_supervision import (
    ABSTAIN,
    LabelingFunctionSpec,
    LabelModel,
    apply_labeling_functions,
    lf_summary,
)
from accord.config import Settings
from accord.core import annotations as annotation_ops
from accord.core import gold as gold_ops
from accord.db.engine import Database
from accord.db.models import Item, Prediction, Project, User
from tests.api.helpers import SST2, import_rows, run_job
from tests.conftest import Actor, Factory, sentiment_schema

N_SENTENCES = 3000
N_GOLD = 300
N_HUMAN = 150
LABELS = ["negative", "positive"]  # the schema's labels, in the order the platform codes them

FUNCTIONS: list[dict[str, Any]] = [
    {
        "name": "praise",
        "kind": "keywords",
        "label": "positive",
        "config": {
            "keywords": ["great", "best", "good", "wonderful", "beautiful", "love", "moving"]
        },
    },
    {
        "name": "fun",
        "kind": "keywords",
        "label": "positive",
        "config": {"keywords": ["funny", "fun", "charming", "delightful", "enjoyable"]},
    },
    {
        "name": "scorn",
        "kind": "keywords",
        "label": "negative",
        "config": {"keywords": ["bad", "worst", "boring", "dull", "mess", "poor", "predictable"]},
    },
    {
        "name": "lacks",
        "kind": "regex",
        "label": "negative",
        "config": {"pattern": r"\b(?:lacks?|fails?|too \w+|unfunny|tedious)\b"},
    },
]


@pytest.fixture(scope="module")
def sst2() -> pd.DataFrame:
    return pd.read_csv(SST2, keep_default_na=False).head(N_SENTENCES)


def items_in_order(db: Database, project: Project) -> tuple[list[int], list[dict[str, Any]]]:
    with db.transaction(write=False) as session:
        rows = session.execute(
            select(Item.id, Item.data).where(Item.project_id == project.id).order_by(Item.id)
        ).all()
    return [r[0] for r in rows], [r[1] for r in rows]


def run(client: TestClient, project: Project, actor: Actor, **body: Any) -> dict[str, Any]:
    return run_job(client, f"/projects/{project.id}/labeling-functions/jobs", actor, body)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """lf_summary as the platform reports it: a name per row, NaN as None."""
    out = []
    for name, row in frame.iterrows():
        out.append(
            {
                "name": name,
                "coverage": pytest.approx(row["coverage"]),
                "overlap": pytest.approx(row["overlap"]),
                "conflict": pytest.approx(row["conflict"]),
                "n_gold": int(row["n_gold"]),
                "correct": int(row["correct"]),
                "accuracy": None if np.isnan(row["accuracy"]) else pytest.approx(row["accuracy"]),
                "n_votes": int(row["n_votes"]),
                "polarity": list(row["polarity"]),
            }
        )
    return out


def test_a_run_stores_the_label_model_and_reports_the_summary(
    client: TestClient,
    db: Database,
    factory: Factory,
    admin: Actor,
    team: dict[str, Actor],
    sst2: pd.DataFrame,
) -> None:
    project = factory.project(admin, schema=sentiment_schema(*LABELS), members=team)
    # The first item is one the functions cover, so the queue's first lease shows a pre-label.
    first = sst2[sst2["text"].str.contains(r"\bgreat\b")].head(1)
    import_rows(client, project, team["manager"], pd.concat([first, sst2.drop(first.index)]))
    ids, data = items_in_order(db, project)
    truth = dict(zip(ids, sst2.loc[[d["row"] for d in data], "label"], strict=True))
    gold_ids, human_ids = ids[-N_GOLD:], ids[-N_GOLD - N_HUMAN : -N_GOLD]
    with db.transaction() as session:
        p = session.get(Project, project.id)
        owner = session.get(User, admin.user.id)
        worker = session.get(User, team["annotator"].user.id)
        assert p is not None and owner is not None and worker is not None
        for item_id in gold_ids:
            gold_ops.set_gold(session, p, item_id, {"sentiment": truth[item_id]}, owner)
        for item_id in human_ids:
            annotation_ops.submit(session, p, worker, item_id, {"sentiment": truth[item_id]})

    api = f"/api/v1/projects/{project.id}/labeling-functions"
    manager = team["manager"].headers
    created = []
    for body in FUNCTIONS:
        response = client.post(api, json=body, headers=manager)
        assert response.status_code == 201, response.text
        created.append(response.json())
    assert [(f["control"], f["config"]["field"], f["active"]) for f in created] == [
        ("sentiment", "text", True)
    ] * len(FUNCTIONS)
    listed = client.get(api, headers=manager).json()
    assert [f["name"] for f in listed] == [f["name"] for f in FUNCTIONS]

    job = run(client, project, team["manager"])
    specs = [LabelingFunctionSpec(f["name"], f["kind"], f["label"], f["config"]) for f in created]
    L = apply_labeling_functions(specs, data, LABELS)
    model = LabelModel("dawid_skene").fit(L, 2)
    majority = LabelModel("majority").fit(L, 2)
    covered = model.labels_ != ABSTAIN
    assert 0.1 < covered.mean() < 0.9  # the keywords cover part of the sentences, not all

    gold_set = set(gold_ids)
    with db.transaction(write=False) as session:
        stored = session.scalars(
            select(Prediction).where(
                Prediction.project_id == project.id, Prediction.model_name == "weak-supervision"
            )
        ).all()
    by_item = {p.item_id: p for p in stored}
    position = {item_id: i for i, item_id in enumerate(ids)}
    expected_items = {ids[i] for i in np.flatnonzero(covered)} - gold_set
    assert set(by_item) == expected_items and len(stored) == len(expected_items)
    for item_id, prediction in by_item.items():
        row = position[item_id]
        assert prediction.result == {"sentiment": LABELS[model.labels_[row]]}
        assert prediction.probas == pytest.approx(
            dict(zip(LABELS, model.probas_[row], strict=True))
        )
        assert prediction.score == pytest.approx(model.probas_[row].max())
        assert prediction.model_version == job["result"]["model_version"]

    gold_codes = np.array(
        [LABELS.index(truth[i]) if i in gold_set else ABSTAIN for i in ids], dtype=np.int64
    )
    human_set = set(human_ids)
    human_codes = np.array(
        [LABELS.index(truth[i]) if i in human_set else ABSTAIN for i in ids], dtype=np.int64
    )
    names = [f["name"] for f in FUNCTIONS]
    summary = client.get(f"{api}/summary", headers=manager)
    assert summary.status_code == 200, summary.text
    assert summary.json()["job_id"] == job["id"]
    (report,) = summary.json()["result"]["controls"]
    assert report == job["result"]["controls"][0]
    assert report["summary"] == records(lf_summary(L, names, LABELS, gold_codes))
    assert report["summary_human"] == records(lf_summary(L, names, LABELS, human_codes))
    assert (report["n_gold"], report["n_human"]) == (N_GOLD, N_HUMAN)
    assert report["n_items"] == len(ids) and report["n_covered"] == int(covered.sum())
    assert report["coverage"] == pytest.approx(covered.mean())
    both = covered & (majority.labels_ != ABSTAIN)
    lm = report["label_model"]
    assert lm["agreement_with_majority"] == pytest.approx(
        (model.labels_[both] == majority.labels_[both]).mean()
    )
    on_gold = covered & (gold_codes != ABSTAIN)
    assert lm["gold"]["n"] == int(on_gold.sum())
    assert lm["gold"]["accuracy"] == pytest.approx(
        (model.labels_[on_gold] == gold_codes[on_gold]).mean()
    )
    assert lm["gold"]["accuracy"] > 0.6  # sentiment keywords beat a coin on real reviews
    assert job["result"]["n_predictions"] == len(expected_items)

    # Most confident first, each with every function's vote on the item.
    review = client.get(
        f"{api}/predictions", params={"min_score": 0.8, "limit": 40}, headers=manager
    ).json()
    confident = [p for p in stored if p.score is not None and p.score >= 0.8]
    assert review["total"] == len(confident)
    scores = [r["score"] for r in review["rows"]]
    assert scores == sorted(scores, reverse=True) and min(scores) >= 0.8
    assert len(review["rows"]) == min(40, len(confident))
    for r in review["rows"]:
        row = position[r["item_id"]]
        assert r["label"] == LABELS[model.labels_[row]]
        assert r["votes"] == {
            n: (LABELS[c] if c != ABSTAIN else None) for n, c in zip(names, L[row], strict=True)
        }
        assert r["preview"] == data[row]["text"][:160] or r["preview"].endswith("…")

    # Pre-labels: the annotator's next item comes with its probabilistic label.
    lease = client.post(f"/api/v1/projects/{project.id}/next", headers=team["annotator"].headers)
    assert lease.status_code == 200, lease.text
    body = lease.json()
    assert body["item"]["id"] == ids[0]
    (shown,) = [p for p in body["predictions"] if p["model_name"] == "weak-supervision"]
    assert shown["result"] == {"sentiment": LABELS[model.labels_[0]]}
    assert shown["score"] == pytest.approx(model.probas_[0].max())

    # Deactivating a function and running by majority replaces the model's predictions.
    off = client.patch(f"{api}/{created[0]['id']}", json={"active": False}, headers=manager)
    assert off.status_code == 200 and off.json()["active"] is False
    again = run(client, project, team["manager"], method="majority")
    assert again["result"]["model_version"] != job["result"]["model_version"]
    rest = LabelModel("majority").fit(L[:, 1:], 2)
    with db.transaction(write=False) as session:
        now = session.scalars(
            select(Prediction).where(
                Prediction.project_id == project.id, Prediction.model_name == "weak-supervision"
            )
        ).all()
    assert {p.item_id for p in now} == {ids[i] for i in np.flatnonzero(rest.labels_ >= 0)} - (
        gold_set
    )
    assert all(p.result["sentiment"] == LABELS[rest.labels_[position[p.item_id]]] for p in now)


def test_functions_are_validated_and_only_managers_use_them(
    client: TestClient, db: Database, factory: Factory, admin: Actor, team: dict[str, Actor]
) -> None:
    schema = sentiment_schema(*LABELS)
    schema["controls"].append(
        {"name": "topics", "type": "choices", "field": "text", "multiple": True, "labels": ["a"]}
    )
    project = factory.project(admin, schema=schema, members=team)
    api = f"/api/v1/projects/{project.id}/labeling-functions"
    manager = team["manager"].headers

    def rejected(body: dict[str, Any], status: int = 422) -> dict[str, Any]:
        response = client.post(api, json=body, headers=manager)
        assert response.status_code == status, response.text
        return dict(response.json())

    bad_regex = rejected(
        {"name": "r", "kind": "regex", "label": "negative", "config": {"pattern": "(unclosed"}}
    )
    assert bad_regex["errors"][0]["field"] == "config.pattern"
    assert bad_regex["errors"][0]["rule"] == "regex"
    empty = rejected({"name": "k", "kind": "keywords", "label": "positive", "config": {}})
    assert empty["errors"][0]["field"] == "config.keywords"
    wrong_label = rejected(
        {"name": "k", "kind": "keywords", "label": "neutral", "config": {"keywords": ["meh"]}}
    )
    assert wrong_label["errors"][0] == {"field": "label", "rule": "choice"}
    multi = rejected(
        {
            "name": "k",
            "kind": "keywords",
            "control": "topics",
            "label": "a",
            "config": {"keywords": ["x"]},
        }
    )
    assert multi["errors"][0] == {"field": "control", "rule": "single_choice_control"}
    kind = rejected({"name": "k", "kind": "neural", "label": "positive"})
    assert kind["errors"][0] == {"field": "kind", "rule": "choice"}
    unknown = rejected({"name": "p", "kind": "python", "config": {"function": "nowhere"}})
    assert unknown["errors"][0]["field"] == "config.function"
    no_label = rejected({"name": "k", "kind": "keywords", "config": {"keywords": ["good"]}})
    assert no_label["errors"][0] == {"field": "label", "rule": "required"}

    nothing = client.post(f"{api}/jobs", json={}, headers=manager)
    assert nothing.status_code == 422
    assert nothing.json()["errors"][0]["field"] == "labeling_functions"
    assert client.get(f"{api}/summary", headers=manager).status_code == 404

    good = {"name": "good", "kind": "keywords", "label": "positive", "config": {"keywords": ["ok"]}}
    made = client.post(api, json=good, headers=manager)
    assert made.status_code == 201
    function_id = made.json()["id"]
    assert rejected(good, 409)["type"] == "conflict"
    method = client.post(f"{api}/jobs", json={"method": "snorkel"}, headers=manager)
    assert method.status_code == 422 and method.json()["errors"][0]["field"] == "method"
    patched = client.patch(
        f"{api}/{function_id}",
        json={"kind": "regex", "config": {"pattern": "[z-a]"}},
        headers=manager,
    )
    assert patched.status_code == 422
    assert patched.json()["errors"][0]["field"] == "config.pattern"
    changed = client.patch(
        f"{api}/{function_id}",
        json={"kind": "regex", "config": {"pattern": r"\bok\b", "ignore_case": False}},
        headers=manager,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["config"] == {"pattern": r"\bok\b", "ignore_case": False, "field": "text"}

    for role in ("annotator", "reviewer"):
        headers = team[role].headers
        assert client.get(api, headers=headers).status_code == 403
        assert client.post(api, json=good | {"name": "x"}, headers=headers).status_code == 403
        assert client.patch(f"{api}/{function_id}", json={}, headers=headers).status_code == 403
        assert client.delete(f"{api}/{function_id}", headers=headers).status_code == 403
        assert client.post(f"{api}/jobs", json={}, headers=headers).status_code == 403
        assert client.get(f"{api}/summary", headers=headers).status_code == 403
        assert client.get(f"{api}/predictions", headers=headers).status_code == 403

    other = factory.project(admin, schema=schema, members=team)
    elsewhere = f"/api/v1/projects/{other.id}/labeling-functions/{function_id}"
    assert client.get(elsewhere, headers=manager).status_code == 404
    assert client.delete(f"{api}/{function_id}", headers=manager).status_code == 204
    assert client.get(api, headers=manager).json() == []


def test_the_sdk_and_the_command_line_drive_embeddings_and_weak_supervision(
    live_server: str,
    settings: Settings,
    db: Database,
    factory: Factory,
    admin: Actor,
    sst2: pd.DataFrame,
) -> None:
    from accord import Client

    manager = factory.user()
    project = factory.project(admin, schema=sentiment_schema(*LABELS), members={"manager": manager})
    with Client(live_server, manager.token) as client:
        assert (
            client.import_items(project.id, [{"text": t} for t in sst2["text"].head(400)]).n_items
            == 400
        )
        for body in FUNCTIONS[:2]:
            client.labeling_functions.create(
                project.id, body["name"], body["kind"], label=body["label"], config=body["config"]
            )
        report = client.labeling_functions.run(project.id)
        table = client.labeling_functions.summary_frame(project.id)
        assert list(table.index) == ["praise", "fun"]
        assert table["coverage"].tolist() == pytest.approx(
            [r["coverage"] for r in report["controls"][0]["summary"]]
        )
        labels = client.labeling_functions.predictions(project.id, page_size=7)
        assert len(labels) == report["n_predictions"] > 7
        assert labels["score"].is_monotonic_decreasing
        assert set(labels["label"]) == {"positive"}  # both functions vote positive

        assert client.vectors.embed(project.id) == {
            "embedder": "tfidf-svd-128",
            "dim": 128,
            "n_items": 400,
        }
        ids, _ = items_in_order(db, project)
        near = client.vectors.similar(project.id, ids[0], k=5)
        assert len(near) == 5 and near["similarity"].is_monotonic_decreasing
        assert client.vectors.put(project.id, "own", {i: [1.0, float(i)] for i in ids}, batch=150)
        frame = client.vectors.embedders(project.id)
        assert frame.loc["own", "count"] == 400 and frame.loc["own", "dim"] == 2

    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    remote = ["--url", live_server, "--token", manager.token]

    def accord(*args: str, local: bool = False) -> str:
        if local:  # the same database, opened by the command itself
            env["ACCORD_DATA_DIR"] = str(settings.data_dir)
            if settings.database_url:
                env["ACCORD_DATABASE_URL"] = settings.database_url
        done = subprocess.run(
            [sys.executable, "-m", "accord", *args, *([] if local else remote)],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "embedded 400 items with tfidf-svd-128 (128 dimensions)" in accord(
        "embed", str(project.id)
    )
    out = accord("weak-supervision", str(project.id), "--method", "majority")
    assert out.startswith(f"majority: {report['n_predictions']} probabilistic labels stored")
    control = report["controls"][0]
    assert f"({control['n_covered']} of 400 items)" in out
    for row in control["summary"]:
        assert f"  {row['name']:<24} coverage {row['coverage']:6.3f}" in out

    # Locally, the run is recorded like any other: the summary shows it.
    out = accord("weak-supervision", str(project.id), "--method", "dawid_skene", local=True)
    assert out.startswith(f"dawid_skene: {report['n_predictions']} probabilistic labels stored")
    with Client(live_server, manager.token) as client:
        newest = client.labeling_functions.summary(project.id)
    assert newest["method"] == "dawid_skene"
    assert newest["model_version"] == report["model_version"]  # same functions, same method
    assert newest["controls"][0]["summary"] == report["controls"][0]["summary"]
