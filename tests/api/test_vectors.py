"""Item embeddings over HTTP on real SST-2 sentences: the embed job stores one unit vector per
item (exactly what the embedder computes), "more like this" equals a brute-force cosine ranking
over the stored vectors, an exact duplicate sentence is its own nearest neighbour, vectors from
elsewhere are validated, and items of other projects never appear."""

from __future__ import annotations

import re
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from accord.automation.embeddings import TfidfSvdEmbedder
from accord.core import vectors
from accord.db.engine import Database
from accord.db.models import Item, Project
from tests.api.helpers import SST2, import_rows, run_job
from tests.conftest import Actor, Factory, sentiment_schema

N_SENTENCES = 2500
N_DUPLICATE_PAIRS = 5


@pytest.fixture(scope="module")
def sst2() -> pd.DataFrame:
    return pd.read_csv(SST2, keep_default_na=False)


def sentences(sst2: pd.DataFrame, n: int = N_SENTENCES) -> pd.DataFrame:
    """The first ``n`` rows and both rows of the first few sentences SST-2 holds twice."""
    twice = sst2[sst2["text"].duplicated(keep=False)]
    pairs = twice[twice["text"].isin(twice["text"].drop_duplicates().head(N_DUPLICATE_PAIRS))]
    chosen = pd.concat([sst2.head(n), pairs])
    return chosen[~chosen.index.duplicated()]


def embed(client: TestClient, project: Project, actor: Actor, **body: Any) -> dict[str, Any]:
    return run_job(client, f"/projects/{project.id}/vectors/jobs", actor, body)


def stored(db: Database, project: Project, embedder: str | None = None) -> Any:
    with db.transaction(write=False) as session:
        p = session.get(Project, project.id)
        assert p is not None
        return vectors.load_vectors(session, p, embedder)


def texts_by_id(db: Database, project: Project) -> dict[int, str]:
    with db.transaction(write=False) as session:
        rows = session.execute(
            select(Item.id, Item.data).where(Item.project_id == project.id).order_by(Item.id)
        )
        return {i: d["text"] for i, d in rows}


def similar(
    client: TestClient, project: Project, actor: Actor, item_id: int, **params: Any
) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/projects/{project.id}/items/{item_id}/similar",
        params=params,
        headers=actor.headers,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 160 else flat[:159] + "…"


def brute_force(ids: Any, matrix: Any, item_id: int, k: int) -> list[tuple[int, float]]:
    position = int(np.flatnonzero(ids == item_id)[0])
    sims = matrix @ matrix[position]
    order = sorted((i for i in range(len(ids)) if i != position), key=lambda i: (-sims[i], i))
    return [(int(ids[i]), float(sims[i])) for i in order[:k]]


def test_embedding_stores_unit_vectors_and_similar_items_are_the_exact_cosine_ranking(
    client: TestClient,
    db: Database,
    factory: Factory,
    admin: Actor,
    team: dict[str, Actor],
    sst2: pd.DataFrame,
) -> None:
    project = factory.project(admin, schema=sentiment_schema(), members=team)
    rows = sentences(sst2)
    import_rows(client, project, team["manager"], rows)
    job = embed(client, project, team["manager"])
    assert job["result"] == {"embedder": "tfidf-svd-128", "dim": 128, "n_items": len(rows)}

    listed = client.get(f"/api/v1/projects/{project.id}/vectors", headers=team["reviewer"].headers)
    assert [(e["embedder"], e["count"], e["dim"]) for e in listed.json()] == [
        ("tfidf-svd-128", len(rows), 128)
    ]

    texts = texts_by_id(db, project)
    ids, matrix = stored(db, project)
    assert ids.tolist() == sorted(texts)
    assert matrix.shape == (len(rows), 128) and matrix.dtype == np.float32
    # Unit length, except a text sharing no word with the corpus (no two-letter token at all).
    has_words = np.array([re.search(r"\b\w\w+\b", texts[i]) is not None for i in ids.tolist()])
    norms = np.linalg.norm(matrix, axis=1)
    assert norms[has_words] == pytest.approx(1.0, abs=1e-5)
    assert norms[~has_words] == pytest.approx(0.0, abs=1e-6)
    # Exactly what the embedder computes when fitted on the project's texts.
    direct = TfidfSvdEmbedder(dim=128)
    direct.fit([texts[i] for i in ids.tolist()])
    expected = direct.embed([texts[i] for i in ids.tolist()])
    assert np.abs(matrix - expected).max() < 1e-4

    reviewer = team["reviewer"]
    for item_id in ids[[0, 17, 400, 1234, len(ids) - 1]].tolist():
        got = similar(client, project, reviewer, item_id, k=10)
        assert got["embedder"] == "tfidf-svd-128"
        found = [(s["item_id"], s["similarity"]) for s in got["similar"]]
        truth = brute_force(ids, matrix, item_id, 10)
        assert item_id not in [i for i, _ in found]
        assert [s for _, s in found] == pytest.approx([s for _, s in truth], abs=1e-5)
        position = {int(i): p for p, i in enumerate(ids.tolist())}
        for other, sim in found:
            assert float(matrix[position[other]] @ matrix[position[item_id]]) == pytest.approx(
                sim, abs=1e-5
            )
        assert [s["preview"] for s in got["similar"]] == [preview(texts[i]) for i, _ in found]

    by_text: dict[str, list[int]] = {}
    for item_id, text in texts.items():
        by_text.setdefault(text, []).append(item_id)
    repeated = [group for group in by_text.values() if len(group) == 2]
    assert len(repeated) == N_DUPLICATE_PAIRS
    for first, second in repeated:
        for item_id, twin in ((first, second), (second, first)):
            top = similar(client, project, reviewer, item_id, k=3)["similar"]
            assert top[0]["similarity"] == pytest.approx(1.0, abs=1e-5)
            exact = [s["item_id"] for s in top if s["similarity"] > 1 - 1e-5]
            assert twin in exact

    annotator = team["annotator"].headers
    path = f"/api/v1/projects/{project.id}"
    assert client.get(f"{path}/items/{ids[0]}/similar", headers=annotator).status_code == 403
    assert client.post(f"{path}/vectors/jobs", json={}, headers=annotator).status_code == 403
    assert client.post(f"{path}/vectors/jobs", json={}, headers=reviewer.headers).status_code == 403
    bad = client.post(
        f"{path}/vectors/jobs", json={"embedder": "word2vec"}, headers=team["manager"].headers
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "embedder"


def test_vectors_from_elsewhere_are_validated_and_searched(
    client: TestClient, db: Database, factory: Factory, admin: Actor, team: dict[str, Actor]
) -> None:
    project = factory.project(admin, schema=sentiment_schema(), members=team)
    other = factory.project(admin, schema=sentiment_schema(), members=team)
    rows = pd.DataFrame({"text": [f"clip {i}" for i in range(8)]})
    import_rows(client, project, team["manager"], rows)
    import_rows(client, other, team["manager"], rows)
    ids = sorted(texts_by_id(db, project))
    foreign = sorted(texts_by_id(db, other))[0]
    rng = np.random.default_rng(7)
    raw = rng.normal(size=(len(ids), 6))
    path = f"/api/v1/projects/{project.id}/vectors"
    manager = team["manager"].headers

    def put(body: Any, name: str = "audio-clap") -> Any:
        return client.put(f"{path}/{name}", json=body, headers=manager)

    done = put({"vectors": {str(i): v.tolist() for i, v in zip(ids, raw, strict=True)}})
    assert done.status_code == 200, done.text
    assert done.json() == {"embedder": "audio-clap", "stored": len(ids), "dim": 6}
    got_ids, matrix = stored(db, project, "audio-clap")
    assert got_ids.tolist() == ids
    assert matrix == pytest.approx(raw / np.linalg.norm(raw, axis=1, keepdims=True), abs=1e-6)

    found = similar(client, project, team["reviewer"], ids[2], k=4, embedder="audio-clap")
    truth = brute_force(got_ids, matrix, ids[2], 4)
    assert [s["item_id"] for s in found["similar"]] == [i for i, _ in truth]
    assert [s["similarity"] for s in found["similar"]] == pytest.approx([s for _, s in truth])

    wrong_dim = put({"vectors": {str(ids[0]): [1.0, 2.0], str(ids[1]): raw[1].tolist()}})
    assert wrong_dim.status_code == 422
    (problem,) = wrong_dim.json()["errors"]
    assert problem == {"field": f"vectors.{ids[0]}", "item_id": ids[0], "rule": "dimension"}
    assert str(ids[0]) in wrong_dim.json()["detail"]

    mixed = put({"vectors": {str(ids[3]): [1.0] * 6, str(ids[4]): [1.0, 2.0, 3.0]}}, "fresh")
    assert mixed.status_code == 422
    assert mixed.json()["errors"][0] == {
        "field": f"vectors.{ids[4]}",
        "item_id": ids[4],
        "rule": "dimension",
    }
    assert stored(db, project, "fresh")[0].size == 0  # all or nothing

    elsewhere = put({"vectors": {str(foreign): raw[0].tolist()}})
    assert elsewhere.status_code == 422
    assert elsewhere.json()["errors"][0]["rule"] == "exists"
    assert elsewhere.json()["errors"][0]["item_id"] == foreign

    infinite = client.put(
        f"{path}/audio-clap",
        content=f'{{"vectors": {{"{ids[5]}": [1, 2, 3, 4, 5, Infinity]}}}}',
        headers={**manager, "Content-Type": "application/json"},
    )
    assert infinite.status_code == 422
    assert infinite.json()["errors"][0]["item_id"] == ids[5]
    assert infinite.json()["errors"][0]["rule"] in ("finite", "float_type", "finite_number")
    zero = put({"vectors": {str(ids[5]): [0.0] * 6}})
    assert zero.status_code == 422 and zero.json()["errors"][0]["rule"] == "nonzero"
    assert stored(db, project, "audio-clap")[1] == pytest.approx(matrix)

    # One vector replaced: the index sees it at once.
    moved = put({"vectors": {str(ids[0]): raw[2].tolist()}})
    assert moved.status_code == 200
    top = similar(client, project, team["reviewer"], ids[2], k=1, embedder="audio-clap")
    assert top["similar"][0]["item_id"] == ids[0]
    assert top["similar"][0]["similarity"] == pytest.approx(1.0)

    annotator = team["annotator"].headers
    forbidden = client.put(f"{path}/x", json={"vectors": {str(ids[0]): [1.0]}}, headers=annotator)
    assert forbidden.status_code == 403


def test_items_of_other_projects_never_appear(
    client: TestClient,
    db: Database,
    factory: Factory,
    admin: Actor,
    team: dict[str, Actor],
    sst2: pd.DataFrame,
) -> None:
    rows = sst2.head(400)
    first = factory.project(admin, schema=sentiment_schema(), members=team)
    second = factory.project(admin, schema=sentiment_schema(), members=team)
    for project in (first, second):
        import_rows(client, project, team["manager"], rows)
        embed(client, project, team["manager"])
    own = {p.id: set(texts_by_id(db, p)) for p in (first, second)}
    assert not own[first.id] & own[second.id]
    reviewer = team["reviewer"]
    for project in (first, second):
        for item_id in sorted(own[project.id])[:25]:
            found = similar(client, project, reviewer, item_id, k=20)["similar"]
            assert len(found) == 20
            assert {s["item_id"] for s in found} <= own[project.id] - {item_id}
    outsider = sorted(own[second.id])[0]
    response = client.get(
        f"/api/v1/projects/{first.id}/items/{outsider}/similar", headers=reviewer.headers
    )
    assert response.status_code == 404
    # A project without vectors answers with none (and says so).
    empty = factory.project(admin, schema=sentiment_schema(), members=team)
    import_rows(client, empty, team["manager"], rows.head(3))
    item_id = sorted(texts_by_id(db, empty))[0]
    assert similar(client, empty, reviewer, item_id) == {
        "item_id": item_id,
        "embedder": None,
        "similar": [],
    }


def test_beyond_the_exact_limit_an_approximate_index_answers_once_built(
    client: TestClient,
    db: Database,
    factory: Factory,
    admin: Actor,
    team: dict[str, Actor],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The limit is lowered so that a few hundred vectors take the path of a large project."""
    pytest.importorskip("usearch")
    monkeypatch.setattr(vectors, "EXACT_LIMIT", 100)
    project = factory.project(admin, schema=sentiment_schema(), members=team)
    import_rows(
        client, project, team["manager"], pd.DataFrame({"text": [f"i{n}" for n in range(300)]})
    )
    ids = sorted(texts_by_id(db, project))
    raw = np.random.default_rng(3).normal(size=(len(ids), 16))
    done = client.put(
        f"/api/v1/projects/{project.id}/vectors/own",
        json={"vectors": {str(i): v.tolist() for i, v in zip(ids, raw, strict=True)}},
        headers=team["manager"].headers,
    )
    assert done.status_code == 200, done.text
    got_ids, matrix = stored(db, project, "own")
    first = similar(client, project, team["reviewer"], ids[0], k=5)["similar"]
    assert [s["item_id"] for s in first] == [i for i, _ in brute_force(got_ids, matrix, ids[0], 5)]
    deadline = time.monotonic() + 120
    while vectors.index_backend(project.id, "own") != "usearch":
        assert time.monotonic() < deadline, "the approximate index was never built"
        time.sleep(0.1)
    # HNSW is approximate (a graph built by several threads may miss a neighbour), so the
    # answers are held to what it promises: exact similarities of the neighbours it found, in
    # order, never the item itself, and nearly all of the true neighbours
    row_of = {int(i): n for n, i in enumerate(got_ids)}
    hits = wanted = 0
    for item_id in ids[::10]:
        found = similar(client, project, team["reviewer"], item_id, k=5)["similar"]
        found_ids = [s["item_id"] for s in found]
        assert len(found_ids) == 5 and item_id not in found_ids
        exact = [float(matrix[row_of[i]] @ matrix[row_of[item_id]]) for i in found_ids]
        assert [s["similarity"] for s in found] == pytest.approx(exact, abs=1e-5)
        assert exact == sorted(exact, reverse=True)
        truth = {i for i, _ in brute_force(got_ids, matrix, item_id, 5)}
        hits += len(truth & set(found_ids))
        wanted += len(truth)
    assert hits / wanted >= 0.95, f"recall {hits}/{wanted}"
