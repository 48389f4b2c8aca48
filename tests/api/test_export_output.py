"""The exact bytes of every export format, pinned against what the database holds.

A small project goes through the real flow (answers with and without lead times, a skip, a
rejected answer and its redo, a quality run for the consensus, an adjudication for the ground
truth); the expected exports are then written here, from the database rows and the documented
layout, without the export code, and must equal the exports byte for byte. Chunks of two items
make every export cross chunk boundaries."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from accord.core import exports
from accord.core.items import ItemFilter
from accord.db.engine import Database
from accord.db.models import Adjudication, Annotation, Consensus, Item, Project, SchemaVersion, User
from accord.io import export_stream
from tests.api.helpers import add_items, post_ok, run_job
from tests.conftest import Actor, Factory

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "controls": [
        {
            "name": "sentiment",
            "type": "choices",
            "field": "text",
            "required": True,
            "labels": ["positive", "negative"],
        },
        {"name": "entities", "type": "spans", "field": "text", "labels": ["PER", "LOC"]},
    ],
}
TEXTS = [
    'Ünïcode "quoted", a comma\nand a new line ☕',
    "Alice went to Paris",
    "a plain sentence",
    "rejected once, then redone",
    "nobody answered this one",
]
META: list[dict[str, Any]] = [
    {"split": "train", "tags": ["a", "ü"]},
    {"split": "test"},
    {},
    {"split": "dev", "score": 0.1},
    {"split": "train", "tags": []},
]


@pytest.fixture()
def project(client: TestClient, db: Database, factory: Factory, admin: Actor) -> Project:
    a, b, c, reviewer = (factory.user() for _ in range(4))
    project = factory.project(
        admin,
        schema=SCHEMA,
        members={"annotator": a, "annotator2": b, "annotator3": c, "reviewer": reviewer},
        overlap=2,
        adjudication_below=0.75,
    )
    add_items(db, project, admin.user, TEXTS, META)
    with db.transaction(write=False) as session:
        ids = list(
            session.scalars(select(Item.id).where(Item.project_id == project.id).order_by(Item.id))
        )
    p = f"/projects/{project.id}"

    def answer(actor: Actor, item: int, result: Any, lead_time: float | None = None) -> Any:
        body = {"result": result, "lead_time": lead_time}
        return post_ok(client, actor, f"{p}/items/{item}/annotations", body)

    # agreement: the consensus, no adjudication
    answer(
        a,
        ids[0],
        {"sentiment": "positive", "entities": [{"label": "LOC", "start": 0, "end": 7}]},
        2.5,
    )
    answer(
        b, ids[0], {"sentiment": "positive", "entities": [{"label": "LOC", "start": 0, "end": 7}]}
    )
    # disagreement: adjudicated, the first answer picked as the ground truth
    picked = answer(a, ids[1], {"sentiment": "positive"}, 0.125)
    answer(
        b,
        ids[1],
        {"sentiment": "negative", "entities": [{"label": "PER", "start": 0, "end": 5}]},
        3.0,
    )
    post_ok(client, reviewer, f"{p}/adjudications/{ids[1]}", {"picked_annotation_id": picked["id"]})
    # a skip, then two answers
    post_ok(client, a, f"{p}/items/{ids[2]}/skip", {"reason": "not sure ☹", "lead_time": 1.75})
    answer(b, ids[2], {"sentiment": "negative"}, 4.0)
    answer(c, ids[2], {"sentiment": "negative"}, 1e-07)
    # rejected, then answered again by its author
    first = answer(a, ids[3], {"sentiment": "positive"}, 10.0)
    post_ok(
        client,
        reviewer,
        f"{p}/annotations/{first['id']}/review",
        {"verdict": "rejected", "reason": "no"},
    )
    redo = answer(a, ids[3], {"sentiment": "negative"}, 12.5)
    assert (redo["parent_id"], redo["version"]) == (first["id"], 2)
    answer(c, ids[3], {"sentiment": "negative"})
    run_job(client, f"{p}/quality/jobs", admin, {"method": "majority_vote"})
    return project


def expected_rows(db: Database, project_id: int, *, include_skipped: bool) -> list[dict[str, Any]]:
    """The export rows of the project as the documented layout describes them, read from the
    tables here (every item in id order, its current answers in id order)."""
    with db.transaction(write=False) as session:
        items = session.execute(
            select(
                Item.id,
                Item.data,
                Item.meta,
                Item.media,
                Item.status,
                Item.batch_id,
                Item.created_at,
            )
            .where(Item.project_id == project_id)
            .order_by(Item.id)
        ).all()
        answers = session.execute(
            select(
                Annotation.item_id,
                Annotation.id,
                User.username,
                Annotation.result,
                Annotation.lead_time,
                Annotation.created_at,
                SchemaVersion.version,
                Annotation.version,
                Annotation.parent_id,
                Annotation.skipped,
                Annotation.skip_reason,
            )
            .join(User, User.id == Annotation.user_id)
            .join(SchemaVersion, SchemaVersion.id == Annotation.schema_version_id)
            .where(Annotation.project_id == project_id, Annotation.is_latest.is_(True))
            .order_by(Annotation.id)
        ).all()
        consensus = session.execute(
            select(
                Consensus.item_id,
                Consensus.control,
                Consensus.label,
                Consensus.confidence,
                Consensus.n_labels,
                Consensus.method,
            )
            .where(Consensus.project_id == project_id)
            .order_by(Consensus.id)
        ).all()
        truth = session.execute(
            select(Adjudication.item_id, Adjudication.result, Adjudication.provenance).where(
                Adjudication.project_id == project_id, Adjudication.status == "resolved"
            )
        ).all()
    by_item: dict[int, list[dict[str, Any]]] = {}
    for i, a, who, result, lead, at, schema, version, parent, skipped, reason in answers:
        if skipped and not include_skipped:
            continue
        by_item.setdefault(i, []).append(
            {
                "id": a,
                "annotator": who,
                "result": result,
                "lead_time": lead,
                "created_at": at.isoformat(),
                "schema_version": schema,
                "version": version,
                "parent_id": parent,
                "skipped": skipped,
                "skip_reason": reason,
            }
        )
    agreed: dict[int, dict[str, Any]] = {}
    for i, control, label, confidence, n, method in consensus:
        agreed.setdefault(i, {})[control] = {
            "label": label,
            "confidence": confidence,
            "n_labels": n,
            "method": method,
        }
    decided = {i: {"result": r, "provenance": p} for i, r, p in truth}
    return [
        {
            "id": i,
            "data": data,
            "meta": meta,
            "media": media,
            "status": status,
            "batch_id": batch,
            "created_at": at.isoformat(),
            "annotations": by_item.get(i, []),
            "consensus": agreed.get(i, {}),
            "ground_truth": decided.get(i),
        }
        for i, data, meta, media, status, batch, at in items
    ]


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def expected_jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(as_json(r) + "\n" for r in rows).encode()


def expected_json(rows: list[dict[str, Any]]) -> bytes:
    return ("[" + ",".join("\n" + as_json(r) for r in rows) + "\n]\n").encode()


CSV_HEADER = [
    "item_id",
    "data.text",
    "data._other",
    "meta.split",
    "meta.tags",
    "meta.score",
    "annotation_id",
    "annotator",
    "created_at",
    "lead_time",
    "skipped",
    "result.sentiment",
    "result.entities",
    "consensus.sentiment",
    "consensus.sentiment.confidence",
    "ground_truth.sentiment",
    "ground_truth.entities",
    "ground_truth.provenance",
]


def expected_csv(rows: list[dict[str, Any]]) -> bytes:
    """One line per (item, answer), one for an item without answers; texts as they are, other
    values as JSON, nothing for a missing value."""

    def cell(value: Any) -> str:
        return "" if value is None else value if isinstance(value, str) else as_json(value)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for row in rows:
        meta = row["meta"]
        agreed = row["consensus"].get("sentiment", {})
        truth = row["ground_truth"] or {}
        decided = truth.get("result") or {}
        item = [row["id"], row["data"]["text"], ""] + [
            cell(meta.get(k)) for k in ("split", "tags", "score")
        ]
        tail = [
            cell(agreed.get("label")),
            cell(agreed.get("confidence")),
            cell(decided.get("sentiment")),
            cell(decided.get("entities")),
            cell(truth.get("provenance")),
        ]
        for a in row["annotations"]:
            answer = [
                a["id"],
                a["annotator"],
                a["created_at"],
                cell(a["lead_time"]),
                str(a["skipped"]),
                cell(a["result"].get("sentiment")),
                cell(a["result"].get("entities")),
            ]
            writer.writerow(item + answer + tail)
        if not row["annotations"]:
            writer.writerow(item + [""] * 7 + tail)
    return out.getvalue().encode()


EXPECTED = {"jsonl": expected_jsonl, "json": expected_json, "csv": expected_csv}


@pytest.mark.parametrize("chunk", [2, 1000])
def test_every_format_is_exactly_what_the_database_holds(
    client: TestClient,
    db: Database,
    admin: Actor,
    project: Project,
    chunk: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(exports, "CHUNK", chunk)
    rows = expected_rows(db, project.id, include_skipped=False)
    # what the project holds, so that every case below is covered
    assert [len(r["annotations"]) for r in rows] == [2, 2, 2, 2, 0]
    assert [len(r["consensus"]) for r in rows] == [1, 1, 1, 1, 0]
    assert [r["ground_truth"] is not None for r in rows] == [False, True, False, False, False]
    assert [a["version"] for a in rows[3]["annotations"]] == [2, 1]
    assert rows[0]["annotations"][1]["lead_time"] is None
    with_skips = expected_rows(db, project.id, include_skipped=True)
    assert [a["skipped"] for a in with_skips[2]["annotations"]] == [True, False, False]

    url = f"/api/v1/projects/{project.id}/export"
    for fmt, expected in EXPECTED.items():
        response = client.get(url, params={"format": fmt}, headers=admin.headers)
        assert response.status_code == 200
        assert response.content == expected(rows), fmt

    annotated = [r for r in rows if r["annotations"]]
    response = client.get(
        url, params={"format": "jsonl", "only_annotated": True}, headers=admin.headers
    )
    assert response.content == expected_jsonl(annotated)
    negative = [
        r for r in rows if any(a["result"]["sentiment"] == "negative" for a in r["annotations"])
    ]
    assert len(negative) == 3
    response = client.get(url, params={"format": "csv", "label": "negative"}, headers=admin.headers)
    assert response.content == expected_csv(negative)
    # filters that leave gaps between the ids of a chunk, small and large
    first = rows[0]["annotations"][0]["annotator"]
    theirs = [r for r in rows if any(a["annotator"] == first for a in r["annotations"])]
    assert [r["id"] for r in theirs] == [rows[k]["id"] for k in (0, 1, 3)]
    response = client.get(
        url, params={"format": "jsonl", "annotated_by": first}, headers=admin.headers
    )
    assert response.content == expected_jsonl(theirs)
    train = [rows[0], rows[4]]
    response = client.get(
        url,
        params={"format": "json", "meta_key": "split", "meta_value": "train"},
        headers=admin.headers,
    )
    assert response.content == expected_json(train)

    with db.transaction(write=False) as session:
        stored = session.get(Project, project.id)
        assert stored is not None
        chunks = export_stream(
            exports.export_rows(session, stored, ItemFilter(), include_skipped=True), "jsonl"
        )
        assert b"".join(chunks) == expected_jsonl(with_skips)
