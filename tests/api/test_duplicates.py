"""Duplicates in the platform: the stored groups of a real SST-2 subset equal a direct computation
with the library; exclude, include, merge and drop change statuses and the queue (an annotator
never receives an excluded item); BCCD's one near-duplicate image pair is found among image
items in media storage; stored vectors add embedding groups; every import job queues a check."""

from __future__ import annotations

import io
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from accord.automation import near_duplicates as nd
from accord.core import progress
from accord.core.distribution import stratum_of
from accord.db.engine import Database
from accord.db.models import AuditEvent, Item, ItemDuplicate, Job, Project, User
from tests.api.helpers import SST2, add_items, run_job, wait_for_job
from tests.conftest import DATASETS, Actor, Factory, sentiment_schema

IMAGES = DATASETS / "detection" / "bccd" / "BCCD" / "JPEGImages"
IMAGE_SCHEMA: dict[str, Any] = {
    "fields": [{"name": "image", "type": "image"}],
    "controls": [{"name": "cells", "type": "boxes", "field": "image", "labels": ["RBC", "WBC"]}],
}
SST2_ROWS = 5000


def run_check(client: TestClient, project_id: int, actor: Actor, **body: Any) -> dict[str, Any]:
    job = run_job(client, f"/projects/{project_id}/duplicates/jobs", actor, body)
    return dict(job["result"])


def stored_groups(db: Database, project_id: int) -> dict[int, set[int]]:
    with db.transaction(write=False) as session:
        rows = session.execute(
            select(ItemDuplicate.group_id, ItemDuplicate.item_id).where(
                ItemDuplicate.project_id == project_id
            )
        )
        groups: dict[int, set[int]] = defaultdict(set)
        for group_id, item_id in rows:
            groups[group_id].add(item_id)
    return dict(groups)


def items_in_order(db: Database, project_id: int) -> list[Item]:
    with db.transaction(write=False) as session:
        return list(
            session.scalars(select(Item).where(Item.project_id == project_id).order_by(Item.id))
        )


def groups_of(labels: np.ndarray[Any, Any], ids: list[int]) -> dict[int, set[int]]:
    members: dict[int, set[int]] = defaultdict(set)
    for position, label in enumerate(labels.tolist()):
        members[ids[label]].add(ids[position])
    return {g: m for g, m in members.items() if len(m) > 1}


def project_with_texts(
    factory: Factory, db: Database, owner: Actor, texts: list[str], **settings: Any
) -> Project:
    project = factory.project(owner, schema=sentiment_schema(), **settings)
    add_items(db, project, owner.user, texts)
    return project


def test_stored_groups_equal_the_library_on_sst2(
    client: TestClient, factory: Factory, admin: Actor, db: Database
) -> None:
    texts = pd.read_csv(SST2)["text"].tolist()[:SST2_ROWS]
    reviewer = factory.user()
    project = project_with_texts(factory, db, admin, texts, members={"reviewer": reviewer})
    result = run_check(client, project.id, admin)

    items = items_in_order(db, project.id)
    ids = [i.id for i in items]
    stored_texts = [i.data["text"] for i in items]
    pairs = nd.text_near_duplicate_pairs(stored_texts, 0.8).concat(
        nd.exact_duplicate_pairs(stored_texts)
    )
    expected = groups_of(nd.cluster_labels(len(ids), pairs), ids)
    assert len(expected) > 150
    stored = stored_groups(db, project.id)
    assert stored == expected
    assert all(group_id == min(members) for group_id, members in stored.items())

    n_redundant = sum(len(m) - 1 for m in expected.values())
    assert result["n_items"] == len(ids)
    assert result["n_groups"] == len(expected)
    assert result["n_redundant"] == n_redundant
    assert result["redundancy_rate"] == pytest.approx(n_redundant / len(ids))
    sizes = Counter(len(m) for m in expected.values())
    assert result["histogram"] == {str(k): v for k, v in sorted(sizes.items())}
    assert result["skipped"] == {"embedding": "the project has no stored vectors"}
    assert result["params"]["threshold"] == 0.8

    # Each member's similarity to its representative is the exact word-pair Jaccard.
    with db.transaction(write=False) as session:
        rows = list(
            session.scalars(select(ItemDuplicate).where(ItemDuplicate.project_id == project.id))
        )
    where = {item_id: p for p, item_id in enumerate(ids)}
    redundant = [r for r in rows if r.item_id != r.group_id]
    sets = nd.shingle_sets([nd.tokenize(t) for t in stored_texts], 2)
    jaccard = nd.jaccard_of_pairs(
        sets,
        np.asarray([where[r.item_id] for r in redundant]),
        np.asarray([where[r.group_id] for r in redundant]),
    )
    assert [r.similarity for r in redundant] == pytest.approx(jaccard.tolist())
    assert {r.method for r in rows} <= {"exact", "text"}
    assert all(r.similarity == 1.0 for r in rows if r.item_id == r.group_id)

    api = f"/api/v1/projects/{project.id}"
    report = client.get(f"{api}/duplicates", headers=reviewer.headers).json()
    assert (report["n_groups"], report["n_redundant"]) == (len(expected), n_redundant)
    largest = sorted(expected.items(), key=lambda g: (-len(g[1]), g[0]))
    assert [g["group_id"] for g in report["largest"]] == [g for g, _ in largest[:10]]
    first = client.get(f"{api}/duplicates/groups", params={"limit": 7}, headers=reviewer.headers)
    second = client.get(
        f"{api}/duplicates/groups", params={"offset": 7, "limit": 7}, headers=reviewer.headers
    )
    listed = first.json()["groups"] + second.json()["groups"]
    assert first.json()["total"] == len(expected)
    assert [g["group_id"] for g in listed] == [g for g, _ in largest[:14]]
    for group in listed:
        members = group["members"]
        assert [m["item_id"] for m in members] == sorted(expected[group["group_id"]])
        assert members[0]["representative"] and members[0]["item_id"] == group["group_id"]
        texts_of = [stored_texts[where[m["item_id"]]] for m in members]
        assert [m["preview"] for m in members] == [
            t if len(t) <= 160 else t[:159] + "…" for t in texts_of
        ]
    one = listed[0]["members"][1]["item_id"]
    of_item = client.get(f"{api}/items/{one}/duplicates", headers=reviewer.headers).json()
    assert of_item["group_id"] == listed[0]["group_id"]

    # A new check replaces the rows: a stricter threshold keeps a subset of the pairs.
    strict = run_check(client, project.id, admin, threshold=0.95, methods=["exact", "text"])
    assert strict["n_redundant"] < n_redundant
    pairs = nd.text_near_duplicate_pairs(stored_texts, 0.95).concat(
        nd.exact_duplicate_pairs(stored_texts)
    )
    assert stored_groups(db, project.id) == groups_of(nd.cluster_labels(len(ids), pairs), ids)


DUPLICATED = [
    "the movie was a pure delight from the first scene to the very last one",  # A
    "The  movie was a pure delight from the FIRST scene to the very last one",  # exact
    "the movie was a pure delight from the first scene to the very last one indeed",  # near
    "a slow , joyless slog through familiar territory",  # B
    "a slow, joyless slog through familiar territory .",  # near (punctuation only)
    "an original story with a heart",
    "nothing here repeats anything else",
]


def next_items(client: TestClient, project_id: int, annotator: Actor) -> list[int]:
    """Everything the queue gives this annotator, answering each."""
    got: list[int] = []
    while True:
        lease = client.post(f"/api/v1/projects/{project_id}/next", headers=annotator.headers)
        if lease.status_code == 204:
            return got
        item_id = lease.json()["item"]["id"]
        got.append(item_id)
        done = client.post(
            f"/api/v1/projects/{project_id}/items/{item_id}/annotations",
            json={"result": {"sentiment": "positive"}},
            headers=annotator.headers,
        )
        assert done.status_code == 201, done.text


def statuses(db: Database, ids: list[int]) -> list[str | None]:
    with db.transaction(write=False) as session:
        found = dict(session.execute(select(Item.id, Item.status).where(Item.id.in_(ids))).all())
    return [found.get(i) for i in ids]


def test_exclude_include_merge_and_drop_change_statuses_and_the_queue(
    client: TestClient, factory: Factory, admin: Actor, db: Database
) -> None:
    annotator, reviewer = factory.user(), factory.user()
    project = project_with_texts(
        factory, db, admin, DUPLICATED, members={"annotator": annotator, "reviewer": reviewer}
    )
    api = f"/api/v1/projects/{project.id}"
    ids = [i.id for i in items_in_order(db, project.id)]
    a, b = ids[0], ids[3]
    run_check(client, project.id, admin)
    assert stored_groups(db, project.id) == {a: set(ids[:3]), b: {b, ids[4]}}
    with db.transaction(write=False) as session:
        methods = dict(
            session.execute(
                select(ItemDuplicate.item_id, ItemDuplicate.method).where(
                    ItemDuplicate.project_id == project.id
                )
            ).all()
        )
    assert [methods[i] for i in ids[:5]] == ["exact", "exact", "text", "text", "text"]

    for action in ("exclude", "merge", "drop", "include"):
        denied = client.post(
            f"{api}/duplicates/{action}", json={"all": True}, headers=reviewer.headers
        )
        assert denied.status_code == 403
    nothing = client.post(f"{api}/duplicates/exclude", json={}, headers=admin.headers)
    assert nothing.status_code == 422 and nothing.json()["errors"][0]["field"] == "group_ids"
    unknown = client.post(
        f"{api}/duplicates/exclude", json={"group_ids": [ids[5]]}, headers=admin.headers
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["group_ids"] == [ids[5]]

    excluded = client.post(
        f"{api}/duplicates/exclude", json={"group_ids": [a]}, headers=admin.headers
    ).json()
    assert (excluded["changed"], excluded["skipped"]) == (ids[1:3], [])
    assert statuses(db, ids) == ["open", "excluded", "excluded", "open", "open", "open", "open"]
    with db.transaction(write=False) as session:
        p = session.get(Project, project.id)
        assert p is not None
        assert progress.project_progress(session, p).total == 5  # excluded items are no work
    # Without a lease, an excluded item takes no answer either.
    sneaked = client.post(
        f"{api}/items/{ids[1]}/annotations",
        json={"result": {"sentiment": "positive"}},
        headers=annotator.headers,
    )
    assert sneaked.status_code == 409

    included = client.post(
        f"{api}/duplicates/include", json={"group_ids": [a]}, headers=admin.headers
    ).json()
    assert included["changed"] == ids[1:3]
    assert set(statuses(db, ids)) == {"open"}

    # The annotator answers B's redundant member: answered items are never excluded.
    lease = client.post(f"{api}/next", headers=annotator.headers).json()
    assert lease["item"]["id"] == a
    client.post(f"{api}/items/{a}/release", headers=annotator.headers)
    answered = client.post(
        f"{api}/items/{ids[4]}/annotations",
        json={"result": {"sentiment": "negative"}},
        headers=annotator.headers,
    )
    assert answered.status_code == 201
    merged = client.post(f"{api}/duplicates/merge", json={"all": True}, headers=admin.headers)
    assert merged.json()["changed"] == ids[1:3]
    assert merged.json()["skipped"] == [{"item_id": ids[4], "reason": "status is done"}]
    with db.transaction(write=False) as session:
        metas = dict(session.execute(select(Item.id, Item.meta).where(Item.id.in_(ids))).all())
    assert [metas[i].get("duplicate_of") for i in ids] == [None, a, a, None, None, None, None]

    got = next_items(client, project.id, annotator)
    assert sorted(got) == [ids[0], ids[3], ids[5], ids[6]]  # never an excluded item
    assert statuses(db, ids[1:3]) == ["excluded", "excluded"]

    refused = client.post(f"{api}/duplicates/drop", json={"all": True}, headers=admin.headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["item_ids"] == [ids[4]]
    assert statuses(db, ids).count(None) == 0
    dropped = client.post(
        f"{api}/duplicates/drop", json={"all": True, "skip_annotated": True}, headers=admin.headers
    ).json()
    assert dropped["changed"] == ids[1:3]
    assert dropped["skipped"] == [{"item_id": ids[4], "reason": "has annotations"}]
    assert statuses(db, ids) == ["done", None, None, "done", "done", "done", "done"]
    assert stored_groups(db, project.id) == {b: {b, ids[4]}}

    with db.transaction(write=False) as session:
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.project_id == project.id, AuditEvent.action.like("duplicates.%"))
                .order_by(AuditEvent.id)
            )
        )
    assert actions == [
        "duplicates.check",
        "duplicates.exclude",
        "duplicates.include",
        "duplicates.merge",
        "duplicates.drop",
    ]


def test_merge_and_include_regroup_a_project_stratified_by_duplicate_of(
    client: TestClient, factory: Factory, admin: Actor, db: Database
) -> None:
    """``duplicate_of`` is metadata like any other: a project balanced by it sees the group of
    a merged item change with the field, and go when include removes it."""
    project = project_with_texts(
        factory, db, admin, DUPLICATED, strategy="stratified", stratify_by="duplicate_of"
    )
    api = f"/api/v1/projects/{project.id}"
    ids = [i.id for i in items_in_order(db, project.id)]
    a, b = ids[0], ids[3]
    run_check(client, project.id, admin)

    def strata() -> list[str | None]:
        return [i.stratum for i in items_in_order(db, project.id)]

    assert strata() == [None] * len(ids)
    client.post(f"{api}/duplicates/merge", json={"all": True}, headers=admin.headers)
    expected = [None, str(a), str(a), None, str(b), None, None]
    assert strata() == expected
    assert [stratum_of(i.meta, "duplicate_of") for i in items_in_order(db, project.id)] == expected
    client.post(f"{api}/duplicates/include", json={"group_ids": [a]}, headers=admin.headers)
    assert strata() == [None, None, None, None, str(b), None, None]


def test_check_parameters_are_validated_and_managers_only(
    client: TestClient, factory: Factory, admin: Actor, db: Database
) -> None:
    reviewer = factory.user()
    project = project_with_texts(factory, db, admin, DUPLICATED, members={"reviewer": reviewer})
    api = f"/api/v1/projects/{project.id}/duplicates/jobs"
    for body, field in (
        ({"threshold": 1.5}, "threshold"),
        ({"methods": ["fuzzy"]}, "methods"),
        ({"max_distance": 70}, "max_distance"),
        ({"cosine": 0}, "cosine"),
    ):
        refused = client.post(api, json=body, headers=admin.headers)
        assert refused.status_code == 422, body
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    assert client.post(api, json={}, headers=reviewer.headers).status_code == 403


def test_bccd_near_duplicate_images_in_media_storage(
    client: TestClient, factory: Factory, admin: Actor, db: Database
) -> None:
    project = factory.project(admin, schema=IMAGE_SCHEMA)
    imported = client.post(
        f"/api/v1/projects/{project.id}/imports/folder",
        json={"path": str(IMAGES), "copy_media": True, "check_duplicates": False},
        headers=admin.headers,
    )
    assert imported.status_code == 201 and imported.json()["n_items"] == 364
    assert imported.json()["duplicates_job_id"] is None
    result = run_check(client, project.id, admin, methods=["exact", "text", "image"])
    assert result["skipped"] == {}
    names = {i.id: i.meta["filename"] for i in items_in_order(db, project.id)}
    assert all(
        i_ref.startswith("local:") for i_ref in (i.media for i in items_in_order(db, project.id))
    )
    groups = stored_groups(db, project.id)
    assert [sorted(names[i] for i in m) for m in groups.values()] == [
        ["BloodImage_00037.jpg", "BloodImage_00038.jpg"]
    ]
    paths = sorted(IMAGES.glob("*.jpg"))
    hashes = nd.image_hashes(paths, "phash")
    (distance,) = nd.hamming_pairs(hashes, max_distance=10).score
    with db.transaction(write=False) as session:
        rows = {
            r.item_id: r
            for r in session.scalars(
                select(ItemDuplicate).where(ItemDuplicate.project_id == project.id)
            )
        }
    (redundant,) = [r for r in rows.values() if r.item_id != r.group_id]
    assert redundant.method == "image"
    assert redundant.similarity == pytest.approx(1 - distance / 64)


def test_stored_vectors_add_embedding_groups(
    client: TestClient, factory: Factory, admin: Actor, db: Database
) -> None:
    vectors = pytest.importorskip("accord.core.vectors")
    texts = ["red apples in a basket", "a green field at dawn", "cold rain over the harbour"]
    project = project_with_texts(factory, db, admin, texts)
    ids = [i.id for i in items_in_order(db, project.id)]
    base = np.random.default_rng(0).normal(size=(3, 16))
    close = base[0] + 0.01 * np.random.default_rng(1).normal(size=16)
    with db.transaction() as session:
        p = session.get(Project, project.id)
        owner = session.get(User, admin.user.id)
        assert p is not None and owner is not None
        vectors.put_vectors(
            session,
            p,
            "test-vectors",
            {ids[0]: base[0].tolist(), ids[1]: close.tolist(), ids[2]: base[2].tolist()},
            owner.id,
        )
    result = run_check(client, project.id, admin, cosine=0.99)
    assert result["skipped"] == {}
    assert stored_groups(db, project.id) == {ids[0]: {ids[0], ids[1]}}
    with db.transaction(write=False) as session:
        row = session.get(ItemDuplicate, ids[1])
    assert row is not None and row.method == "embedding"
    cosine = base[0] @ close / np.linalg.norm(base[0]) / np.linalg.norm(close)
    assert row.similarity == pytest.approx(cosine, abs=1e-5)


def test_an_import_job_queues_a_check_unless_asked_not_to(
    client: TestClient, factory: Factory, admin: Actor, db: Database
) -> None:
    project = factory.project(admin, schema=sentiment_schema())
    api = f"/api/v1/projects/{project.id}"
    rows = "".join(json.dumps({"text": t}) + "\n" for t in DUPLICATED)

    def upload(**form: str) -> dict[str, Any]:
        started = client.post(
            f"{api}/import-jobs",
            files={"file": ("rows.jsonl", io.BytesIO(rows.encode()), "application/x-ndjson")},
            data=form,
            headers=admin.headers,
        )
        assert started.status_code == 202, started.text
        job = wait_for_job(client, started.json()["id"], admin.headers)
        assert job["status"] == "finished", job["error"]
        return dict(job["result"])

    first = upload()
    check = wait_for_job(client, first["duplicates_job_id"], admin.headers)
    assert check["status"] == "finished", check["error"]
    assert check["kind"] == "duplicates" and check["project_id"] == project.id
    with db.transaction(write=False) as session:
        queued = session.get(Job, first["duplicates_job_id"])
        assert queued is not None and queued.params["trigger"] == "import"
    assert (check["result"]["n_groups"], check["result"]["n_redundant"]) == (2, 3)
    report = client.get(f"{api}/duplicates", headers=admin.headers).json()
    assert report["n_groups"] == 2 and report["last_job"]["id"] == first["duplicates_job_id"]

    again = upload(check_duplicates="false")
    assert again["duplicates_job_id"] is None and again["n_duplicates"] == len(DUPLICATED)


def duplicate_jobs(db: Database, project_id: int) -> list[Job]:
    with db.transaction(write=False) as session:
        return list(
            session.scalars(
                select(Job)
                .where(Job.project_id == project_id, Job.kind == "duplicates")
                .order_by(Job.id)
            )
        )


def assert_exact_pair_found(
    client: TestClient, db: Database, actor: Actor, batch: dict[str, Any], pair: set[int]
) -> dict[str, Any]:
    """The check queued after the import ``batch`` finished and grouped the ``pair`` of items,
    the later one linked to the earlier by the exact method."""
    job = wait_for_job(client, batch["duplicates_job_id"], actor.headers)
    assert job["status"] == "finished", job["error"]
    assert job["kind"] == "duplicates"
    project_id = job["project_id"]
    first, second = sorted(pair)
    assert pair <= stored_groups(db, project_id)[first]
    with db.transaction(write=False) as session:
        queued = session.get(Job, job["id"])
        assert queued is not None
        assert queued.params == {"trigger": "import", "import_batch_id": batch["id"]}
        row = session.get(ItemDuplicate, second)
        assert row is not None and (row.group_id, row.method, row.similarity) == (
            first,
            "exact",
            1.0,
        )
    return dict(job["result"])


def test_synchronous_imports_queue_a_check_unless_asked_not_to(
    client: TestClient, factory: Factory, admin: Actor, db: Database
) -> None:
    # POST /imports: a file whose rows repeat each other (not byte for byte)
    project = factory.project(admin, schema=sentiment_schema())
    api = f"/api/v1/projects/{project.id}"
    rows = "".join(json.dumps({"text": t}) + "\n" for t in DUPLICATED)
    done = client.post(
        f"{api}/imports",
        files={"file": ("rows.jsonl", io.BytesIO(rows.encode()), "application/x-ndjson")},
        headers=admin.headers,
    )
    assert done.status_code == 201, done.text
    batch = done.json()
    assert batch["n_items"] == len(DUPLICATED) and batch["duplicates_job_id"] is not None
    ids = [i.id for i in items_in_order(db, project.id)]
    result = assert_exact_pair_found(client, db, admin, batch, {ids[0], ids[1]})
    assert (result["n_groups"], result["n_redundant"]) == (2, 3)

    # POST /items: an item repeating one imported before
    listed = client.post(
        f"{api}/items",
        json={"items": [{"text": "An Original   story with a heart"}]},
        headers=admin.headers,
    )
    assert listed.status_code == 201, listed.text
    added = listed.json()
    newest = items_in_order(db, project.id)[-1].id
    result = assert_exact_pair_found(client, db, admin, added, {ids[5], newest})
    assert (result["n_groups"], result["n_redundant"]) == (3, 4)
    report = client.get(f"{api}/duplicates", headers=admin.headers).json()
    assert report["last_job"]["id"] == added["duplicates_job_id"]

    # Asked not to, neither queues a check.
    again = client.post(
        f"{api}/items",
        json={"items": [{"text": "AN ORIGINAL STORY WITH A HEART"}], "check_duplicates": False},
        headers=admin.headers,
    )
    assert again.status_code == 201 and again.json()["duplicates_job_id"] is None
    file_again = client.post(
        f"{api}/imports",
        files={"file": ("more.jsonl", io.BytesIO(b'{"text": "nothing HERE repeats"}\n'))},
        data={"check_duplicates": "false"},
        headers=admin.headers,
    )
    assert file_again.status_code == 201 and file_again.json()["duplicates_job_id"] is None
    assert [j.id for j in duplicate_jobs(db, project.id)] == [
        batch["duplicates_job_id"],
        added["duplicates_job_id"],
    ]


def test_a_folder_import_queues_a_check_that_groups_identical_images(
    client: TestClient, factory: Factory, admin: Actor, db: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    same = (IMAGES / "BloodImage_00037.jpg").read_bytes()
    (folder / "a.jpg").write_bytes(same)
    (folder / "b.jpg").write_bytes(same)
    (folder / "c.jpg").write_bytes((IMAGES / "BloodImage_00001.jpg").read_bytes())
    project = factory.project(admin, schema=IMAGE_SCHEMA)
    done = client.post(
        f"/api/v1/projects/{project.id}/imports/folder",
        json={"path": str(folder), "copy_media": True},
        headers=admin.headers,
    )
    assert done.status_code == 201, done.text
    job = wait_for_job(client, done.json()["duplicates_job_id"], admin.headers)
    assert job["status"] == "finished", job["error"]
    a, b, _ = [i.id for i in items_in_order(db, project.id)]
    assert stored_groups(db, project.id) == {a: {a, b}}
    with db.transaction(write=False) as session:
        row = session.get(ItemDuplicate, b)
        assert row is not None and (row.method, row.similarity) == ("image", 1.0)


def test_an_import_joins_a_check_still_waiting_to_start(
    client: TestClient, factory: Factory, admin: Actor, db: Database
) -> None:
    """A check queued after an earlier import that has not started reads the new items too:
    the next import names it instead of queueing a second one."""
    project = factory.project(admin, schema=sentiment_schema())
    with db.transaction() as session:
        waiting = Job(
            kind="duplicates",
            project_id=project.id,
            created_by=admin.user.id,
            params={"trigger": "import", "import_batch_id": 0},
        )
        manual = Job(kind="duplicates", project_id=project.id, params={"threshold": 0.9})
        session.add_all([waiting, manual])
        session.flush()
        waiting_id = waiting.id
    done = client.post(
        f"/api/v1/projects/{project.id}/items",
        json={"items": [{"text": "one"}, {"text": "ONE"}]},
        headers=admin.headers,
    )
    assert done.status_code == 201 and done.json()["duplicates_job_id"] == waiting_id
    assert len(duplicate_jobs(db, project.id)) == 2


def test_the_sdk_checks_reads_and_acts(
    live_server: str, factory: Factory, admin: Actor, db: Database
) -> None:
    from accord import Client

    project = project_with_texts(factory, db, admin, DUPLICATED, pii_policy="flag")
    ids = [i.id for i in items_in_order(db, project.id)]
    with Client(live_server, admin.token) as client:
        report = client.duplicates.check(project.id, methods=["exact", "text"])
        assert (report["n_groups"], report["n_redundant"]) == (2, 3)
        frame = client.duplicates.groups(project.id)
        assert frame.groupby("group_id")["item_id"].apply(list).to_dict() == {
            ids[0]: ids[:3],
            ids[3]: ids[3:5],
        }
        assert client.duplicates.merge(project.id, [ids[3]])["changed"] == [ids[4]]
        assert client.duplicates.report(project.id)["n_excluded"] == 1
        assert client.duplicates.include(project.id)["changed"] == [ids[4]]
        assert client.pii.summary(project.id)["n_items_with_pii"] == 0
