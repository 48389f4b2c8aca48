"""Personal data at import: a crafted text holding every kind of entity (with random values, so no
other test can write them), and metadata holding an e-mail address, is imported under each
policy. Flag keeps the text and records the entities; mask and redact store only the changed
text and metadata: the raw values are nowhere in the database files or the search index.
Audit events count without values; annotators never read the entities; the policy is a
validated, audited project setting."""

from __future__ import annotations

import json
import random
import re
import string
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import String, cast, select

from accord.automation.pii import detect
from accord.config import Settings
from accord.core.personal_data import might_hold_pii
from accord.db.engine import Database
from accord.db.models import AuditEvent, Item
from tests.conftest import DATASETS, Actor, Factory, sentiment_schema

rng = random.Random()


def digits(n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def token(n: int = 10) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(n))


def luhn_digit(body: str) -> str:
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:  # doubled: the check digit will sit to the right of these
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def iban(country: str, bban: str) -> str:
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(numeric) % 97
    compact = f"{country}{check:02d}{bban}"
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def mod97_ok(compact: str) -> bool:
    return int("".join(str(int(c, 36)) for c in compact[4:] + compact[:4])) % 97 == 1


def ibans() -> tuple[str, str]:
    """A valid GB IBAN and the same with wrong check digits, none of whose group-boundary
    prefixes of 15 characters or more passes the checksum by chance either, and whose account
    digits (grouped like a card number) do not pass the card checksum by chance."""
    while True:
        account = digits(14)
        good = iban("GB", "WEST" + account)
        bad = good[:2] + f"{(int(good[2:4]) + 1) % 100:02d}" + good[4:]
        groups = bad.split(" ")
        prefixes = ["".join(groups[:n]) for n in range(1, len(groups) + 1)]
        looks_like_card = luhn_digit(account[:-1]) == account[-1]
        if not looks_like_card and not any(mod97_ok(p) for p in prefixes if len(p) >= 15):
            return good, bad


@dataclass
class Crafted:
    text: str
    entities: list[tuple[str, int, int]]  # kind, start, end in text
    raw: list[str]  # every personal value
    secrets: list[str]  # distinctive pieces that must never reach storage under mask/redact
    nested: str
    meta_email: str  # in the item's metadata (when imported with it)


def crafted() -> Crafted:
    user, host = token(), token(8)
    card_body = "4" + digits(14)
    card = card_body + luhn_digit(card_body)
    bad_card = card_body + str((int(luhn_digit(card_body)) + 1) % 10)
    good_iban, bad_iban = ibans()
    a, b = rng.randint(200, 999), rng.randint(200, 999)
    values: list[tuple[str | None, str]] = [
        (None, "Write to "),
        ("EMAIL", f"{user}.doe@{host}.example.com"),
        (None, " or call "),
        ("PHONE", f"+44 20 {digits(4)} {digits(4)}"),
        (None, ", "),
        ("PHONE", f"({a}) {b}-{digits(4)}"),
        (None, " or "),
        ("PHONE", f"030 {rng.randint(1, 9)}{digits(7)}"),
        (None, ". Card "),
        ("CREDIT_CARD", " ".join(card[i : i + 4] for i in range(0, 16, 4))),
        (None, ", not "),
        (None, bad_card),
        (None, ". IBAN "),
        ("IBAN", good_iban),
        (None, " and not "),
        (None, bad_iban),
        (None, ". Hosts "),
        ("IP_ADDRESS", f"10.{rng.randint(1, 254)}.{rng.randint(1, 254)}.{rng.randint(1, 254)}"),
        (None, " and "),
        ("IP_ADDRESS", f"2001:db8:{rng.randint(4096, 65535):x}::{rng.randint(4096, 65535):x}"),
        (None, ", see "),
        ("URL", f"https://portal.{host}.org/u/{user}?ref=mail"),
        (None, " today."),
    ]
    text, entities, raw = "", [], []
    for kind, value in values:
        if kind is not None:
            entities.append((kind, len(text), len(text) + len(value)))
            raw.append(value)
        text += value
    nested_phone = f"+1-202-555-{digits(4)}"
    sender, sender_host = token(), token(9)
    meta_email = f"{sender}@{sender_host}.example.net"
    return Crafted(
        text,
        entities,
        [*raw, nested_phone, meta_email],
        [user, host, card, good_iban, sender, sender_host],
        nested_phone,
        meta_email,
    )


def masked(value: str) -> str:
    return re.sub(r"[^\W\d_]|_", "x", re.sub(r"[0-9]", "#", value))


def apply_expected(c: Crafted, policy: str) -> tuple[str, list[tuple[str, int, int]]]:
    """The stored text and the entity offsets in it, built by hand."""
    out, moved, cursor = "", [], 0
    for kind, start, end in c.entities:
        out += c.text[cursor:start]
        new = masked(c.text[start:end]) if policy == "mask" else f"[{kind}]"
        moved.append((kind, len(out), len(out) + len(new)))
        out += new
        cursor = end
    return out + c.text[cursor:], moved


_FIND_IN_FILES = """
import json, sys
from pathlib import Path
files = sorted(Path(sys.argv[1]).glob("accord*.db*"))
content = b"".join(f.read_bytes() for f in files)
found = [n for n in json.loads(sys.argv[2]) if n.encode() in content]
index = any(f.name.endswith("search.db") for f in files)
print(json.dumps({"search_index": index, "found": found}))
"""


def found_in_database_files(settings: Settings, needles: list[str]) -> set[str]:
    """Which of the strings occur in the raw bytes of the SQLite database and its search index,
    write-ahead logs included. Read by a child process: opening and closing a database file in
    this process would drop SQLite's POSIX locks on it, and another process (a worker) could
    then checkpoint the log away under the open connections."""
    done = subprocess.run(
        [sys.executable, "-c", _FIND_IN_FILES, str(settings.data_dir), json.dumps(needles)],
        capture_output=True,
        text=True,
        check=True,
    )
    answer = json.loads(done.stdout)
    assert answer["search_index"]
    return set(answer["found"])


def on_sqlite(db: Database) -> bool:
    return db.dialect == "sqlite"


def import_one(
    client: TestClient, project_id: int, actor: Actor, c: Crafted, *, with_meta: bool = False
) -> dict[str, Any]:
    data = {"text": c.text, "extra": {"notes": ["plain words", f"call {c.nested} now"]}}
    meta = {"sender": c.meta_email, "source": "crm export"}
    objects = [{"data": data, "meta": meta} if with_meta else data]
    done = client.post(
        f"/api/v1/projects/{project_id}/items", json={"items": objects}, headers=actor.headers
    )
    assert done.status_code == 201, done.text
    return dict(done.json())


def only_item(client: TestClient, project_id: int, actor: Actor) -> dict[str, Any]:
    page = client.get(f"/api/v1/projects/{project_id}/items", headers=actor.headers).json()
    (item,) = page["items"]
    return dict(item)


def audit_events(db: Database, project_id: int, action: str) -> list[AuditEvent]:
    with db.transaction(write=False) as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.project_id == project_id, AuditEvent.action == action)
                .order_by(AuditEvent.id)
            )
        )


@pytest.mark.parametrize("policy", ["flag", "mask", "redact"])
def test_every_entity_kind_under_each_policy(
    policy: str,
    client: TestClient,
    factory: Factory,
    admin: Actor,
    db: Database,
    settings: Settings,
) -> None:
    c = crafted()
    project = factory.project(admin, schema=sentiment_schema(), pii_policy=policy)
    batch = import_one(client, project.id, admin, c, with_meta=True)
    item = only_item(client, project.id, admin)
    entities = client.get(
        f"/api/v1/projects/{project.id}/items/{item['id']}/pii", headers=admin.headers
    ).json()
    stored = item["data"]["text"]
    nested = item["data"]["extra"]["notes"][1]
    sender = item["meta"]["sender"]

    if policy == "flag":
        expected_text, expected = c.text, c.entities
        assert stored == c.text
        assert nested == f"call {c.nested} now"
        assert sender == c.meta_email
    else:
        expected_text, expected = apply_expected(c, policy)
        assert stored == expected_text
        nested_value = masked(c.nested) if policy == "mask" else "[PHONE]"
        assert nested == f"call {nested_value} now"
        assert sender == (masked(c.meta_email) if policy == "mask" else "[EMAIL]")
    assert item["data"]["extra"]["notes"][0] == "plain words"
    assert item["meta"]["source"] == "crm export"
    text_entities = [e for e in entities if e["field"] == "text"]
    assert [(e["kind"], e["start"], e["end"]) for e in text_entities] == expected
    assert all(e["action"] == policy for e in entities)
    note, in_meta = [e for e in entities if e["field"] != "text"]
    assert (note["field"], note["kind"], note["start"]) == ("extra.notes.1", "PHONE", 5)
    # Metadata entities carry their metadata key, with offsets in the stored value.
    assert (in_meta["field"], in_meta["kind"], in_meta["start"], in_meta["end"]) == (
        "meta.sender",
        "EMAIL",
        0,
        len(sender),
    )

    # The audit log counts per kind (metadata included) and never holds a value.
    (complete,) = [e for e in audit_events(db, project.id, "import.complete")]
    counts = {"EMAIL": 2, "PHONE": 4, "CREDIT_CARD": 1, "IBAN": 1, "IP_ADDRESS": 2, "URL": 1}
    assert complete.entity_id == batch["id"]
    assert complete.details["pii"] == {"policy": policy, "items": 1, "entities": counts}
    redactions = audit_events(db, project.id, "pii.redact")
    if policy == "flag":
        assert redactions == []
    else:
        (redaction,) = redactions
        assert redaction.entity_id == batch["id"]
        assert redaction.details == {"policy": policy, "items": 1, "entities": counts}
    for event in [complete, *redactions]:
        assert not any(value in repr(event.details) for value in c.raw)

    # Full-text search finds the personal values only where they were kept.
    user = c.secrets[0]
    found = client.get(
        f"/api/v1/projects/{project.id}/items", params={"q": user}, headers=admin.headers
    ).json()["items"]
    assert [i["id"] for i in found] == ([item["id"]] if policy == "flag" else [])

    with db.transaction(write=False) as session:
        in_data = session.scalar(
            select(Item.id).where(
                Item.project_id == project.id, cast(Item.data, String).contains(c.raw[0])
            )
        )
    assert (in_data is not None) == (policy == "flag")
    with db.transaction(write=False) as session:
        in_meta_column = session.scalar(
            select(Item.id).where(
                Item.project_id == project.id, cast(Item.meta, String).contains(c.meta_email)
            )
        )
    assert (in_meta_column is not None) == (policy == "flag")
    if on_sqlite(db):
        if policy == "flag":
            # the scan sees stored text and stored metadata
            kept = [c.raw[0], c.meta_email]
            assert found_in_database_files(settings, kept) == set(kept)
        else:
            # neither the text's values nor the redacted or masked metadata value
            assert found_in_database_files(settings, [*c.raw, *c.secrets]) == set()


def test_reimporting_the_same_raw_rows_is_a_duplicate_under_redact(
    client: TestClient, factory: Factory, admin: Actor
) -> None:
    c = crafted()
    project = factory.project(admin, schema=sentiment_schema(), pii_policy="redact")
    first = import_one(client, project.id, admin, c)
    again = import_one(client, project.id, admin, c)
    assert (first["n_items"], again["n_items"], again["n_duplicates"]) == (1, 0, 1)


def test_off_finds_nothing_and_the_summary_counts_per_kind(
    client: TestClient, factory: Factory, admin: Actor
) -> None:
    c = crafted()
    off = factory.project(admin, schema=sentiment_schema())
    import_one(client, off.id, admin, c)
    item = only_item(client, off.id, admin)
    assert item["data"]["text"] == c.text
    pii = client.get(f"/api/v1/projects/{off.id}/items/{item['id']}/pii", headers=admin.headers)
    assert pii.json() == []
    summary = client.get(f"/api/v1/projects/{off.id}/pii", headers=admin.headers).json()
    assert summary == {
        "policy": "off",
        "n_items": 1,
        "n_items_with_pii": 0,
        "entities": {},
        "actions": {},
    }

    flagged = factory.project(admin, schema=sentiment_schema(), pii_policy="flag")
    rows = [{"text": c.text}, {"text": "nothing personal here"}, {"text": "mail a@b.example.org"}]
    client.post(f"/api/v1/projects/{flagged.id}/items", json={"items": rows}, headers=admin.headers)
    summary = client.get(f"/api/v1/projects/{flagged.id}/pii", headers=admin.headers).json()
    assert summary["n_items"] == 3 and summary["n_items_with_pii"] == 2
    assert summary["entities"] == {
        "CREDIT_CARD": 1,
        "EMAIL": 2,
        "IBAN": 1,
        "IP_ADDRESS": 2,
        "PHONE": 3,
        "URL": 1,
    }
    assert summary["actions"] == {"flag": 10}
    listed = client.get(
        f"/api/v1/projects/{flagged.id}/items", params={"has_pii": "true"}, headers=admin.headers
    ).json()["items"]
    assert sorted(i["data"]["text"] for i in listed) == sorted([c.text, "mail a@b.example.org"])


def test_annotators_never_read_the_entities(
    client: TestClient, factory: Factory, admin: Actor
) -> None:
    annotator, reviewer = factory.user(), factory.user()
    project = factory.project(
        admin,
        schema=sentiment_schema(),
        pii_policy="flag",
        members={"annotator": annotator, "reviewer": reviewer},
    )
    import_one(client, project.id, admin, crafted())
    lease = client.post(f"/api/v1/projects/{project.id}/next", headers=annotator.headers)
    assert lease.status_code == 200
    assert "pii" not in lease.json()["item"]
    item_id = lease.json()["item"]["id"]
    own = client.get(f"/api/v1/projects/{project.id}/items/{item_id}", headers=annotator.headers)
    assert own.status_code == 200 and "pii" not in own.json()
    for path in (f"items/{item_id}/pii", "pii"):
        denied = client.get(f"/api/v1/projects/{project.id}/{path}", headers=annotator.headers)
        assert denied.status_code == 403, path
    seen = client.get(
        f"/api/v1/projects/{project.id}/items/{item_id}/pii", headers=reviewer.headers
    )
    assert seen.status_code == 200 and len(seen.json()) == 10


def test_the_policy_is_a_validated_audited_setting(
    client: TestClient, factory: Factory, admin: Actor, db: Database
) -> None:
    body = {"name": f"pii-{token()}", "schema": sentiment_schema(), "pii_policy": "shred"}
    refused = client.post("/api/v1/projects", json=body, headers=admin.headers)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["pii_policy"]

    created = client.post(
        "/api/v1/projects", json=body | {"pii_policy": "mask"}, headers=admin.headers
    )
    assert created.status_code == 201 and created.json()["pii_policy"] == "mask"
    project_id = created.json()["id"]
    bad = client.patch(
        f"/api/v1/projects/{project_id}", json={"pii_policy": "hide"}, headers=admin.headers
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "pii_policy"
    changed = client.patch(
        f"/api/v1/projects/{project_id}", json={"pii_policy": "redact"}, headers=admin.headers
    )
    assert changed.status_code == 200 and changed.json()["pii_policy"] == "redact"
    (update,) = audit_events(db, project_id, "project.update")
    assert (update.details["before"], update.details["after"]) == (
        {"pii_policy": "mask"},
        {"pii_policy": "redact"},
    )


def test_the_quick_check_never_skips_a_text_the_detector_would_flag() -> None:
    """Texts without '@', ':', 'www.', four digits or two capitals before two digits are not
    scanned: on every SST-2 sentence, on crafted texts and on random strings of the characters
    the detector looks at, it finds nothing in any of them."""
    texts = pd.read_csv(DATASETS / "text" / "sst2.csv")["text"].tolist()
    crafted_texts = [crafted().text for _ in range(20)] + ["WWW.example.com/x", "see :: here"]
    crafted_texts += ["1.2.3.4", "GB82 WEST 1234 5698 7654 32", "+44 20 7946 0958"]
    texts += crafted_texts
    alphabet = "0123456789   .-+()/ABGRWESTwx"
    texts += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(50_000)
    ]
    skipped = [t for t in texts if not might_hold_pii(t)]
    assert len(skipped) > 60_000
    assert [t for t in skipped if detect(t)] == []
    assert all(might_hold_pii(t) for t in crafted_texts)
    # short values with a digit or three, as metadata often holds, are not scanned
    assert not any(might_hold_pii(t) for t in ["sst2", "row 17", "v1.2.3", "batch 2 of 9"])


def test_media_references_are_left_alone_and_metadata_is_scanned(
    client: TestClient, factory: Factory, admin: Actor
) -> None:
    schema = {
        "fields": [{"name": "photo", "type": "image"}, {"name": "caption", "type": "text"}],
        "controls": [{"name": "ok", "type": "choices", "field": "caption", "labels": ["y", "n"]}],
    }
    project = factory.project(admin, schema=schema, pii_policy="redact")
    row = {
        "data": {
            "photo": "https://cdn.example.org/a.jpg",
            "caption": "from https://cdn.example.org/a.jpg",
        },
        "meta": {"uploader": "jane@example.org"},
    }
    client.post(
        f"/api/v1/projects/{project.id}/items", json={"items": [row]}, headers=admin.headers
    )
    item = only_item(client, project.id, admin)
    assert item["data"] == {"photo": "https://cdn.example.org/a.jpg", "caption": "from [URL]"}
    assert item["meta"] == {"uploader": "[EMAIL]"}
    entities = client.get(
        f"/api/v1/projects/{project.id}/items/{item['id']}/pii", headers=admin.headers
    ).json()
    assert [(e["field"], e["kind"], e["start"], e["end"]) for e in entities] == [
        ("caption", "URL", 5, 10),
        ("meta.uploader", "EMAIL", 0, 7),
    ]
