"""Target shares of the stratified order: the groups served follow the shares (checked item by
item in a simulation through the API), a group that runs out gives its share to the others, a
group with share 0 waits until nothing else is left, and bad shares get a 422 naming the field
and the rule."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from accord import Client
from accord.core.distribution import share_order
from accord.db.engine import Database
from accord.db.models import Item, Project
from tests.api.helpers import add_items
from tests.conftest import Actor, Factory

SHARES = {"en": 0.5, "de": 0.3, "*": 0.2}


def _grouped(db: Database, project: Project, admin: Actor, groups: dict[str | None, int]) -> None:
    """``n`` items per group, imported one group after the other (None: without the field)."""
    texts, meta = [], []
    for group, n in groups.items():
        texts += [f"{group} text {k}" for k in range(n)]
        meta += [{"lang": group} if group is not None else {} for _ in range(n)]
    add_items(db, project, admin.user, texts, meta=meta)


def _patch(client: TestClient, project: Project, actor: Actor, body: dict[str, Any]) -> Any:
    return client.patch(f"/api/v1/projects/{project.id}", json=body, headers=actor.headers)


def _label_one(client: TestClient, project: Project, actor: Actor) -> dict[str, Any] | None:
    lease = client.post(f"/api/v1/projects/{project.id}/next", headers=actor.headers)
    if lease.status_code == 204:
        return None
    assert lease.status_code == 200, lease.text
    item: dict[str, Any] = lease.json()["item"]
    client.post(
        f"/api/v1/projects/{project.id}/items/{item['id']}/annotations",
        json={"result": {"sentiment": "positive"}},
        headers=actor.headers,
    ).raise_for_status()
    return item


def _group(item: dict[str, Any]) -> str:
    return str(item["meta"].get("lang", "(none)"))


def test_three_annotators_labelling_300_items_follow_the_target_shares(
    client: TestClient, db: Database, factory: Factory, admin: Actor
) -> None:
    annotators = [factory.user() for _ in range(3)]
    members = {f"annotator{k}": a for k, a in enumerate(annotators)}
    project = factory.project(admin, members=members)
    # imported largest group last, so that import order would serve no "en" for 280 items
    _grouped(db, project, admin, {"fr": 80, "es": 80, None: 40, "de": 120, "en": 200})
    done = _patch(
        client,
        project,
        admin,
        {"strategy": "stratified", "stratify_by": "lang", "stratify_shares": SHARES},
    )
    assert done.status_code == 200, done.text
    assert done.json()["stratify_shares"] == SHARES
    # the groups not named ("fr", "es" and the items without the field) split the 0.2 of "*"
    targets = {"en": 0.5, "de": 0.3, "fr": 0.2 / 3, "es": 0.2 / 3, "(none)": 0.2 / 3}
    random.seed(11)
    served: Counter[str] = Counter()
    worst = 0.0
    for n in range(1, 301):
        item = _label_one(client, project, annotators[n % 3])
        assert item is not None
        served[_group(item)] += 1
        worst = max(worst, *(abs(served[g] - share * n) for g, share in targets.items()))
    # Each annotator's own items stay less than one item away from every share, so the
    # project's stay less than one item per annotator away: under 3 items, 1 point of 300.
    assert worst < 3, (worst, served)
    assert (served["en"], served["de"]) == (150, 90)  # 50 and 30 of each annotator's 100
    assert sum(served[g] for g in ("fr", "es", "(none)")) == 60
    shares = {g: served[g] / 300 for g in targets}
    assert all(abs(shares[g] - targets[g]) <= 0.01 for g in targets), shares


def test_a_group_that_runs_out_gives_its_share_to_the_others(
    client: TestClient, db: Database, factory: Factory, admin: Actor
) -> None:
    annotator = factory.user()
    project = factory.project(admin, members={"annotator": annotator})
    _grouped(db, project, admin, {"en": 60, "de": 6, "fr": 30})
    body = {"strategy": "stratified", "stratify_by": "lang"}
    assert _patch(client, project, admin, body).status_code == 200
    only_en_de = {"stratify_shares": {"en": 0.5, "de": 0.5}}  # "fr" has share 0: no "*"
    assert _patch(client, project, admin, only_en_de).status_code == 200
    order = []
    while (item := _label_one(client, project, annotator)) is not None:
        order.append(_group(item))
    assert len(order) == 96
    # "de" and "en" alternate until "de" is done, then "en" alone; "fr" only when nothing else
    # is left
    assert order[:12].count("de") == 6 and order[:12].count("en") == 6
    assert order[12:66] == ["en"] * 54
    assert order[66:] == ["fr"] * 30


def test_without_shares_the_stratified_order_stays_uniform_and_empty_shares_clear_them(
    client: TestClient, db: Database, factory: Factory, admin: Actor
) -> None:
    project = factory.project(admin)
    _grouped(db, project, admin, {"en": 5, "de": 5})
    body = {"strategy": "stratified", "stratify_by": "lang", "stratify_shares": {"en": 1}}
    assert _patch(client, project, admin, body).json()["stratify_shares"] == {"en": 1.0}
    cleared = _patch(client, project, admin, {"stratify_shares": {}})
    assert cleared.status_code == 200 and cleared.json()["stratify_shares"] is None
    with db.transaction(write=False) as session:
        stored = session.scalar(select(Project.stratify_shares).where(Project.id == project.id))
    assert stored is None


def _refused(response: Any, rule: str) -> str:
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert [(e["field"], e["rule"]) for e in errors] == [("stratify_shares", rule)], errors
    return str(response.json()["detail"])


def test_bad_target_shares_are_refused_naming_the_field_and_the_rule(
    client: TestClient, db: Database, factory: Factory, admin: Actor
) -> None:
    project = factory.project(admin)
    _grouped(db, project, admin, {"en": 3, "de": 3, None: 2})
    # no stratify_by yet
    detail = _refused(
        _patch(client, project, admin, {"stratify_shares": {"en": 1}}), "requires_stratify_by"
    )
    assert "stratify_by" in detail
    assert _patch(client, project, admin, {"stratify_by": "lang"}).status_code == 200
    detail = _refused(
        _patch(client, project, admin, {"stratify_shares": {"en": 0.7, "de": -0.1}}),
        "non_negative",
    )
    assert "'de'" in detail
    nan = client.patch(
        f"/api/v1/projects/{project.id}",
        content=b'{"stratify_shares": {"en": NaN}}',
        headers={**admin.headers, "Content-Type": "application/json"},
    )
    _refused(nan, "non_negative")
    _refused(
        _patch(client, project, admin, {"stratify_shares": {"en": 0, "*": 0}}), "positive_total"
    )
    detail = _refused(
        _patch(client, project, admin, {"stratify_shares": {"en": 0.5, "EN": 0.2, "fr": 0.3}}),
        "known_group",
    )
    assert "'EN', 'fr'" in detail and "'de', 'en'" in detail and '"*"' in detail
    not_a_number = _patch(client, project, admin, {"stratify_shares": {"en": "half"}})
    assert not_a_number.status_code == 422
    assert not_a_number.json()["errors"][0]["field"] == "stratify_shares.en"
    assert _patch(client, project, admin, {"stratify_shares": ["en"]}).status_code == 422
    # nothing was stored by the refused requests
    assert (
        client.get(f"/api/v1/projects/{project.id}", headers=admin.headers).json()[
            "stratify_shares"
        ]
        is None
    )

    ok = _patch(client, project, admin, {"stratify_shares": {"en": 2, "*": 1}})
    assert ok.status_code == 200 and ok.json()["stratify_shares"] == {"en": 2.0, "*": 1.0}
    # regrouping by another field checks the shares against the new groups, and changes nothing
    # when they do not fit
    add_items(db, project, admin.user, ["with a topic"], meta=[{"topic": "sports", "lang": "en"}])
    moved = _patch(client, project, admin, {"stratify_by": "topic"})
    detail = _refused(moved, "known_group")
    assert "'en'" in detail and "'sports'" in detail
    with db.transaction(write=False) as session:
        row = session.get(Project, project.id)
        assert row is not None and row.stratify_by == "lang"
        strata = set(session.scalars(select(Item.stratum).where(Item.project_id == project.id)))
    assert strata == {"en", "de", None}
    # a manager only: an annotator may not set them
    annotator = factory.user()
    client.put(
        f"/api/v1/projects/{project.id}/members/{annotator.user.username}",
        json={"role": "annotator"},
        headers=admin.headers,
    ).raise_for_status()
    assert _patch(client, project, annotator, {"stratify_shares": {"en": 1}}).status_code == 403


def test_share_order_keeps_every_group_less_than_one_item_from_its_share() -> None:
    rng = random.Random(3)
    for _ in range(200):
        groups: list[str | None] = [f"g{k}" for k in range(rng.randint(2, 6))] + [None]
        named = rng.sample(groups[:-1], rng.randint(1, len(groups) - 1))
        shares = {g: rng.choice([0.05, 0.1, 1 / 3, 0.5, 2.0, rng.random()]) for g in named}
        shares["*"] = rng.choice([0.0, 0.2, 1.0])
        others = [g for g in groups if g not in shares]
        weight = {g: shares[g] if g in shares else shares["*"] / len(others) for g in groups}
        total = sum(weight.values())
        k = sum(1 for g in groups if weight[g] > 0)
        bound = 1 - 1 / (2 * k - 2) if k > 1 else 0
        served: Counter[str | None] = Counter()
        for n in range(1, 301):
            first = share_order(groups, shares, served)[0]
            served[first] += 1
            for g in groups:
                assert abs(served[g] - weight[g] / total * n) <= bound + 1e-9, (shares, n, g)


def test_share_order_puts_groups_with_share_0_last() -> None:
    order = share_order(["a", "b", "c", None], {"a": 0.0, "b": 1.0}, {"b": 10})
    assert order[0] == "b" and set(order[1:]) == {"a", "c", None}
    # "*" gives the unnamed groups (None among them) their equal part
    order = share_order(["a", "b", None], {"a": 0.25, "*": 0.75}, {"a": 1, "b": 0, None: 1})
    assert order[0] == "b"


def test_the_sdk_sets_the_stratified_order_with_shares(
    live_server: str, db: Database, factory: Factory, admin: Actor
) -> None:
    project = factory.project(admin)
    _grouped(db, project, admin, {"en": 2, "de": 2})
    with Client(live_server, admin.token) as sdk:
        out = sdk.set_stratified_order(project.id, "lang", {"en": 0.75, "*": 0.25})
        assert (out.strategy, out.stratify_by) == ("stratified", "lang")
        assert out.stratify_shares == {"en": 0.75, "*": 0.25}
        assert sdk.project(project.id).stratify_shares == {"en": 0.75, "*": 0.25}
        assert sdk.set_stratified_order(project.id, "lang").stratify_shares is None
