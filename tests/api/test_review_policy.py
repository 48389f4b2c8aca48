"""The review policy decides which answers the review queue serves: none, a random sample, all,
or all of an annotator's answers until they have N accepted reviews."""

from __future__ import annotations

import math
from typing import Any

from fastapi.testclient import TestClient

from tests.api.helpers import add_items, walk_review_queue
from tests.conftest import Actor, Factory


def post(client: TestClient, actor: Actor, path: str, body: Any = None) -> Any:
    return client.post(f"/api/v1{path}", json=body, headers=actor.headers)


def items_of(client: TestClient, actor: Actor, pid: int) -> list[int]:
    page = client.get(f"/api/v1/projects/{pid}/items?limit=1000", headers=actor.headers).json()
    return [i["id"] for i in page["items"]]


def answer(client: TestClient, actor: Actor, pid: int, item_id: int, sentiment: str) -> Any:
    response = post(
        client,
        actor,
        f"/projects/{pid}/items/{item_id}/annotations",
        {"result": {"sentiment": sentiment}},
    )
    assert response.status_code == 201, response.text
    return response.json()


def waiting(client: TestClient, actor: Actor, pid: int) -> int:
    """Items the unreviewed queue holds (0 when it answers 204)."""
    response = client.get(f"/api/v1/projects/{pid}/review/next", headers=actor.headers)
    if response.status_code == 204:
        return 0
    assert response.status_code == 200, response.text
    return int(response.json()["remaining"])


def queued_annotations(client: TestClient, actor: Actor, pid: int) -> list[int]:
    """Every annotation id the unreviewed queue serves, walking it to the end."""
    return [a for _, waiting, _ in walk_review_queue(client, actor, pid) for a in waiting]


def verdict(client: TestClient, actor: Actor, pid: int, annotation_id: int, **body: Any) -> None:
    response = post(client, actor, f"/projects/{pid}/annotations/{annotation_id}/review", body)
    assert response.status_code == 201, response.text


def setup(
    client: TestClient, db: Any, factory: Factory, admin: Actor, n: int, **settings: Any
) -> tuple[int, Actor, Actor, list[int]]:
    annotator, reviewer = factory.user(), factory.user()
    project = factory.project(
        admin, members={"annotator": annotator, "reviewer": reviewer}, **settings
    )
    add_items(db, project, admin.user, [f"text {i}" for i in range(n)])
    return project.id, annotator, reviewer, items_of(client, admin, project.id)


def test_policy_none_queues_nothing_and_all_queues_everything(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    pid, annotator, reviewer, ids = setup(client, db, factory, admin, 4, review_policy="none")
    mine = [answer(client, annotator, pid, i, "positive")["id"] for i in ids[:2]]
    assert waiting(client, reviewer, pid) == 0
    # Revisions keep the flag of what they revise: still not queued.
    revised = client.put(
        f"/api/v1/projects/{pid}/annotations/{mine[0]}",
        json={"result": {"sentiment": "negative"}},
        headers=annotator.headers,
    )
    assert revised.status_code == 201, revised.text
    assert waiting(client, reviewer, pid) == 0

    patched = client.patch(
        f"/api/v1/projects/{pid}", json={"review_policy": "all"}, headers=admin.headers
    )
    assert patched.status_code == 200, patched.text
    later = [answer(client, annotator, pid, i, "positive")["id"] for i in ids[2:]]
    assert waiting(client, reviewer, pid) == 2
    assert queued_annotations(client, reviewer, pid) == later
    # A reviewed answer that its author revises is queued again (same flag, no verdict yet).
    verdict(client, reviewer, pid, later[0], verdict="accepted")
    assert queued_annotations(client, reviewer, pid) == [later[1]]
    again = client.put(
        f"/api/v1/projects/{pid}/annotations/{later[0]}",
        json={"result": {"sentiment": "negative"}},
        headers=annotator.headers,
    ).json()
    assert queued_annotations(client, reviewer, pid) == [again["id"], later[1]]


def test_sample_policy_queues_the_sample_rate_within_binomial_tolerance(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    n, rate = 300, 0.25
    pid, annotator, reviewer, ids = setup(
        client, db, factory, admin, n, review_policy="sample", review_sample_rate=rate
    )
    for item_id in ids:
        answer(client, annotator, pid, item_id, "positive")
    queued = waiting(client, reviewer, pid)
    # Binomial(300, 0.25): mean 75, sd 7.5; 4.5 sd either side fails about once in 150,000 runs.
    mean, sd = n * rate, math.sqrt(n * rate * (1 - rate))
    assert abs(queued - mean) <= 4.5 * sd, (queued, mean, sd)
    assert len(queued_annotations(client, reviewer, pid)) == queued


def test_sample_rates_zero_and_one_are_exact(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    pid, annotator, reviewer, ids = setup(
        client, db, factory, admin, 20, review_policy="sample", review_sample_rate=0.0
    )
    for item_id in ids[:10]:
        answer(client, annotator, pid, item_id, "positive")
    assert waiting(client, reviewer, pid) == 0
    client.patch(f"/api/v1/projects/{pid}", json={"review_sample_rate": 1.0}, headers=admin.headers)
    for item_id in ids[10:]:
        answer(client, annotator, pid, item_id, "positive")
    assert waiting(client, reviewer, pid) == 10


def test_new_annotators_are_reviewed_until_n_accepted_reviews(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    pid, annotator, reviewer, ids = setup(
        client, db, factory, admin, 12, review_policy="new_annotators", review_new_until=3
    )
    newcomer = factory.user()
    client.put(
        f"/api/v1/projects/{pid}/members/{newcomer.user.username}",
        json={"role": "annotator"},
        headers=admin.headers,
    )
    # A rejection is not an accepted review: the redo is still reviewed, and keeps counting.
    first = answer(client, annotator, pid, ids[0], "positive")
    verdict(client, reviewer, pid, first["id"], verdict="rejected", reason="wrong")
    assert waiting(client, reviewer, pid) == 0
    redo = answer(client, annotator, pid, ids[0], "negative")
    assert queued_annotations(client, reviewer, pid) == [redo["id"]]
    verdict(client, reviewer, pid, redo["id"], verdict="accepted")
    for item_id in ids[1:3]:
        mine = answer(client, annotator, pid, item_id, "positive")
        assert queued_annotations(client, reviewer, pid) == [mine["id"]]
        verdict(client, reviewer, pid, mine["id"], verdict="accepted")
    # Three accepted reviews: this annotator's answers are no longer queued ...
    for item_id in ids[3:6]:
        answer(client, annotator, pid, item_id, "positive")
    assert waiting(client, reviewer, pid) == 0
    # ... while a newcomer's still are.
    theirs = [answer(client, newcomer, pid, i, "positive")["id"] for i in ids[6:8]]
    assert queued_annotations(client, reviewer, pid) == theirs


def test_a_redo_keeps_the_flag_of_the_rejected_answer(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    pid, annotator, reviewer, ids = setup(client, db, factory, admin, 2, review_policy="all")
    first = answer(client, annotator, pid, ids[0], "positive")
    # The policy changes to "none" after the answer was queued; the rejected work's redo is
    # still reviewed, because a redo keeps the flag of what it redoes.
    client.patch(f"/api/v1/projects/{pid}", json={"review_policy": "none"}, headers=admin.headers)
    verdict(client, reviewer, pid, first["id"], verdict="rejected", reason="read it again")
    redo = answer(client, annotator, pid, ids[0], "negative")
    assert (redo["parent_id"], redo["version"]) == (first["id"], 2)
    other = answer(client, annotator, pid, ids[1], "negative")
    assert queued_annotations(client, reviewer, pid) == [redo["id"]]
    assert other["id"] not in queued_annotations(client, reviewer, pid)


def test_the_queue_shows_only_the_answers_waiting_for_review(
    client: TestClient, db: Any, factory: Factory, admin: Actor
) -> None:
    pid, annotator, reviewer, ids = setup(
        client, db, factory, admin, 1, review_policy="all", overlap=2
    )
    second = factory.user()
    client.put(
        f"/api/v1/projects/{pid}/members/{second.user.username}",
        json={"role": "annotator"},
        headers=admin.headers,
    )
    queued = answer(client, annotator, pid, ids[0], "positive")
    client.patch(f"/api/v1/projects/{pid}", json={"review_policy": "none"}, headers=admin.headers)
    answer(client, second, pid, ids[0], "negative")
    body = client.get(f"/api/v1/projects/{pid}/review/next", headers=reviewer.headers).json()
    assert [a["annotation"]["id"] for a in body["annotations"]] == [queued["id"]]
    verdict(client, reviewer, pid, queued["id"], verdict="accepted")
    assert waiting(client, reviewer, pid) == 0
