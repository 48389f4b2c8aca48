"""Training over the API: practice with feedback (never annotations, and burned as honeypots),
the qualification gate with pass/fail against the threshold and a manager's reset, recalibration
after a guidelines version that requires it, and the diff between guideline versions."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from accord.core import gold
from accord.core.guidelines import line_diff, section_for, sections
from accord.db.engine import Database
from accord.db.models import Annotation, AuditEvent, PracticeAnswer, Project, Qualification
from accord.schema import parse_schema
from tests.api.helpers import add_items
from tests.conftest import TEXT_SCHEMA, Actor, Factory

GUIDELINES = """Label the sentiment of each review.

# Sentiment

Choose one label per review.

## Positive reviews

Praise, satisfaction, recommendations.

## Negative reviews

Complaints, sarcasm, warnings.

# Entities

Mark PER for people and ORG for companies.
"""


def _api(project: Project, path: str = "") -> str:
    return f"/api/v1/projects/{project.id}{path}"


def _setup(
    client: TestClient,
    db: Database,
    factory: Factory,
    admin: Actor,
    *,
    n_gold: int = 4,
    n_items: int = 6,
    **settings: Any,
) -> tuple[Project, dict[int, dict[str, Any]], list[int]]:
    """A project with gold items (answers alternate positive/negative, the first one with an
    entity) and ordinary items; returns the gold answers by item id and the ordinary ids."""
    project = factory.project(admin, guidelines=GUIDELINES, **settings)
    texts = [f"Ann from Acme says text {k}" for k in range(n_gold + n_items)]
    add_items(db, project, admin.user, texts)
    page = client.get(_api(project, "/items"), params={"limit": 1000}, headers=admin.headers)
    ids = {i["data"]["text"]: i["id"] for i in page.json()["items"]}
    answers: dict[int, dict[str, Any]] = {}
    for k in range(n_gold):
        answer: dict[str, Any] = {"sentiment": "positive" if k % 2 == 0 else "negative"}
        if k == 0:
            answer["entities"] = [{"label": "PER", "start": 0, "end": 3}]
        item_id = ids[texts[k]]
        client.put(
            _api(project, f"/items/{item_id}/gold"), json={"result": answer}, headers=admin.headers
        ).raise_for_status()
        answers[item_id] = answer
    return project, answers, [ids[t] for t in texts[n_gold:]]


def _wrong(answer: dict[str, Any]) -> dict[str, Any]:
    return {"sentiment": "negative" if answer["sentiment"] == "positive" else "positive"}


def test_practice_gives_immediate_feedback_and_never_annotates(
    client: TestClient, db: Database, factory: Factory, admin: Actor
) -> None:
    annotator = factory.user()
    project, answers, _ = _setup(client, db, factory, admin, members={"annotator": annotator})
    h = annotator.headers
    first = client.post(_api(project, "/practice/next"), headers=h)
    assert first.status_code == 200
    body = first.json()
    assert set(body["item"]) == {"id", "data", "meta", "media", "media_info"}
    assert "gold" not in str(body).lower()
    item_id = body["item"]["id"]
    # Asking again returns the same item until it is answered.
    again = client.post(_api(project, "/practice/next"), headers=h).json()
    assert again["item"]["id"] == item_id and (again["answered"], again["correct"]) == (0, 0)
    other = next(i for i in answers if i != item_id)
    refused = client.post(
        _api(project, f"/practice/items/{other}/answer"),
        json={"result": answers[other]},
        headers=h,
    )
    assert refused.status_code == 409 and "correct_answer" not in refused.json()

    truth = answers[item_id]
    wrong = client.post(
        _api(project, f"/practice/items/{item_id}/answer"),
        json={"result": _wrong(truth)},
        headers=h,
    )
    assert wrong.status_code == 200, wrong.text
    fb = wrong.json()
    schema = parse_schema(TEXT_SCHEMA)
    expected_scores = gold.compare(schema, truth, _wrong(truth))
    assert fb["correct"] is False and fb["scores"] == expected_scores
    assert fb["score"] == min(expected_scores.values()) == 0.0
    assert fb["answer"] == _wrong(truth) and fb["correct_answer"] == truth
    heading = "Positive reviews" if truth["sentiment"] == "positive" else "Negative reviews"
    assert fb["control"] == "sentiment"
    assert fb["guideline"]["heading"] == heading
    assert (
        fb["guideline"]["text"]
        == {
            "Positive reviews": "Praise, satisfaction, recommendations.",
            "Negative reviews": "Complaints, sarcasm, warnings.",
        }[heading]
    )

    # The next one answered right: success, and the counts follow.
    nxt = client.post(_api(project, "/practice/next"), headers=h).json()
    assert nxt["item"]["id"] != item_id and (nxt["answered"], nxt["correct"]) == (1, 0)
    truth2 = answers[nxt["item"]["id"]]
    right = client.post(
        _api(project, f"/practice/items/{nxt['item']['id']}/answer"),
        json={"result": truth2},
        headers=h,
    ).json()
    assert right["correct"] is True and set(right["scores"].values()) == {1.0}
    with db.transaction(write=False) as session:
        n_annotations = session.scalar(
            select(func.count()).where(Annotation.project_id == project.id)
        )
        stored = session.scalars(
            select(PracticeAnswer).where(PracticeAnswer.user_id == annotator.user.id)
        ).all()
    assert n_annotations == 0
    assert [(p.item_id, p.correct, p.qualification_id) for p in stored] == [
        (item_id, False, None),
        (nxt["item"]["id"], True, None),
    ]
    # Practice can be switched off by a manager.
    client.patch(
        _api(project), json={"practice_enabled": False}, headers=admin.headers
    ).raise_for_status()
    off = client.post(_api(project, "/practice/next"), headers=h)
    assert off.status_code == 403 and "practice is switched off" in off.json()["detail"]


def test_spans_feedback_scores_f1_and_the_guideline_names_the_control(
    client: TestClient, db: Database, factory: Factory, admin: Actor
) -> None:
    annotator = factory.user()
    project, answers, _ = _setup(
        client, db, factory, admin, n_gold=1, members={"annotator": annotator}
    )
    (item_id,) = answers
    truth = answers[item_id]
    given = {
        "sentiment": "positive",
        "entities": [
            {"label": "PER", "start": 0, "end": 3},
            {"label": "ORG", "start": 9, "end": 13},
        ],
    }
    assert (
        client.post(_api(project, "/practice/next"), headers=annotator.headers).json()["item"]["id"]
        == item_id
    )
    fb = client.post(
        _api(project, f"/practice/items/{item_id}/answer"),
        json={"result": given},
        headers=annotator.headers,
    ).json()
    expected = gold.compare(parse_schema(TEXT_SCHEMA), truth, given)
    assert fb["scores"] == expected and expected["entities"] < gold.STRUCTURED_MATCH
    assert fb["correct"] is False and fb["control"] == "entities"
    assert fb["guideline"] == {
        "heading": "Entities",
        "text": "Mark PER for people and ORG for companies.",
        "html": "<p>Mark PER for people and ORG for companies.</p>\n",
    }
    assert fb["correct_answer"]["entities"] == truth["entities"]
    assert [(e["label"], e["start"], e["end"]) for e in fb["answer"]["entities"]] == [
        ("PER", 0, 3),
        ("ORG", 9, 13),
    ]
    # Nothing left to practise.
    assert (
        client.post(_api(project, "/practice/next"), headers=annotator.headers).status_code == 204
    )


def test_practised_items_are_never_served_as_honeypots_and_honeypots_never_practised(
    client: TestClient, db: Database, factory: Factory, admin: Actor
) -> None:
    annotator = factory.user()
    project, answers, ordinary = _setup(
        client, db, factory, admin, n_gold=4, n_items=8, gold_rate=0.5,
        members={"annotator": annotator},
    )  # fmt: skip
    h = annotator.headers
    practised = []
    for _ in range(2):
        item_id = client.post(_api(project, "/practice/next"), headers=h).json()["item"]["id"]
        client.post(
            _api(project, f"/practice/items/{item_id}/answer"),
            json={"result": answers[item_id]},
            headers=h,
        ).raise_for_status()
        practised.append(item_id)
    with db.transaction(write=False) as session:
        p = session.get(Project, project.id)
        assert p is not None
        picks = {gold.pick_gold(session, p, annotator.user.id) for _ in range(60)}
    assert picks == set(answers) - set(practised)

    served = []
    while True:
        lease = client.post(_api(project, "/next"), headers=h)
        if lease.status_code == 204:
            break
        item_id = lease.json()["item"]["id"]
        served.append(item_id)
        result = answers.get(item_id, {"sentiment": "positive"})
        client.post(
            _api(project, f"/items/{item_id}/annotations"), json={"result": result}, headers=h
        ).raise_for_status()
    assert set(ordinary) <= set(served)
    assert not set(practised) & set(served)
    # A gold item answered as a real honeypot is never offered in practice.
    honeypots = set(served) & set(answers)
    left = set(answers) - set(practised) - honeypots
    offered = []
    while True:
        nxt = client.post(_api(project, "/practice/next"), headers=h)
        if nxt.status_code == 204:
            break
        item_id = nxt.json()["item"]["id"]
        offered.append(item_id)
        client.post(
            _api(project, f"/practice/items/{item_id}/answer"),
            json={"result": answers[item_id]},
            headers=h,
        ).raise_for_status()
    assert set(offered) == left
    for item_id in honeypots:
        refused = client.post(
            _api(project, f"/practice/items/{item_id}/answer"),
            json={"result": answers[item_id]},
            headers=h,
        )
        assert refused.status_code == 409 and "correct_answer" not in refused.json()


def _qualify(
    client: TestClient, project: Project, actor: Actor, answers: dict[int, Any], rights: list[bool]
) -> list[dict[str, Any]]:
    started = client.post(_api(project, "/qualification/start"), headers=actor.headers)
    assert started.status_code == 200, started.text
    out = []
    for right in rights:
        current = client.post(_api(project, "/qualification/next"), headers=actor.headers)
        assert current.status_code == 200, current.text
        item_id = current.json()["item"]["id"]
        truth = answers[item_id]
        fb = client.post(
            _api(project, f"/qualification/items/{item_id}/answer"),
            json={"result": truth if right else _wrong(truth)},
            headers=actor.headers,
        )
        assert fb.status_code == 200, fb.text
        out.append(fb.json())
    return out


def test_the_qualification_gate_pass_fail_and_reset(
    client: TestClient, db: Database, factory: Factory, admin: Actor
) -> None:
    good, poor, reviewer = factory.user(), factory.user(), factory.user()
    n, threshold = 5, 0.6
    project, answers, ordinary = _setup(
        client, db, factory, admin, n_gold=6, n_items=4, qualification_items=n,
        qualification_threshold=threshold,
        members={"annotator": good, "annotator2": poor, "reviewer": reviewer},
    )  # fmt: skip
    refused = client.post(_api(project, "/next"), headers=good.headers)
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith("qualification needed: ")
    assert "5 gold item(s)" in refused.json()["detail"]
    # No way around the gate by submitting without a lease either.
    sneak = client.post(
        _api(project, f"/items/{ordinary[0]}/annotations"),
        json={"result": {"sentiment": "positive"}},
        headers=good.headers,
    )
    assert sneak.status_code == 403
    assert client.post(_api(project, "/next"), headers=reviewer.headers).status_code == 200
    status = client.get(_api(project, "/qualification"), headers=good.headers).json()
    assert (status["state"], status["kind"], status["n_required"]) == ("needed", "qualification", n)
    assert status["threshold"] == threshold

    rights_good = [True, True, False, True, False]  # 3 of 5 = 0.6: passes at 0.6
    feedback = _qualify(client, project, good, answers, rights_good)
    assert [f["correct"] for f in feedback] == rights_good
    assert len({f["item_id"] for f in feedback}) == n  # distinct gold items
    assert [f["qualification"]["n_answered"] for f in feedback] == list(range(1, n + 1))
    last = feedback[-1]["qualification"]
    k = sum(rights_good)
    assert last["n_correct"] == k
    assert last["status"] == ("passed" if k / n >= threshold else "failed") == "passed"
    assert all(f["correct_answer"] == answers[f["item_id"]] for f in feedback)
    lease = client.post(_api(project, "/next"), headers=good.headers)
    assert lease.status_code == 200 and lease.json()["item"]["id"] in ordinary
    assert client.get(_api(project, "/qualification"), headers=good.headers).json()["state"] == (
        "none"
    )

    rights_poor = [True, False, False, True, False]  # 2 of 5 = 0.4 < 0.6
    feedback = _qualify(client, project, poor, answers, rights_poor)
    k = sum(rights_poor)
    assert (
        feedback[-1]["qualification"]["status"]
        == ("passed" if k / n >= threshold else "failed")
        == "failed"
    )
    blocked = client.post(_api(project, "/next"), headers=poor.headers)
    assert blocked.status_code == 403
    assert blocked.json()["detail"] == (
        "qualification needed: you did not pass (2 of 5 right, 60% needed); "
        "a manager can let you try again"
    )
    assert (
        client.post(_api(project, "/qualification/start"), headers=poor.headers).status_code == 403
    )
    assert (
        client.post(_api(project, "/qualification/next"), headers=poor.headers).status_code == 409
    )

    # Managers see everyone's results; annotators do not.
    assert client.get(_api(project, "/qualifications"), headers=poor.headers).status_code == 403
    table = client.get(
        _api(project, "/qualifications"), params={"latest": True}, headers=admin.headers
    ).json()
    by_name = {row["username"]: row for row in table}
    assert set(by_name) == {good.user.username, poor.user.username}
    assert by_name[good.user.username]["status"] == "passed"
    assert by_name[good.user.username]["accuracy"] == 3 / 5
    assert by_name[poor.user.username]["status"] == "failed"
    assert by_name[poor.user.username]["accuracy"] == 2 / 5
    assert (
        client.post(
            _api(project, f"/qualifications/{good.user.username}/reset"), headers=admin.headers
        ).status_code
        == 409
    )
    reset = client.post(
        _api(project, f"/qualifications/{poor.user.username}/reset"), headers=admin.headers
    )
    assert reset.status_code == 200 and reset.json()["status"] == "in_progress"
    assert client.post(_api(project, "/next"), headers=poor.headers).status_code == 403
    feedback = _qualify(client, project, poor, answers, [True] * n)
    assert feedback[-1]["qualification"]["status"] == "passed"
    assert client.post(_api(project, "/next"), headers=poor.headers).status_code == 200
    history = client.get(_api(project, "/qualifications"), headers=admin.headers).json()
    poor_rows = [r["status"] for r in history if r["username"] == poor.user.username]
    assert poor_rows == ["passed", "failed"]  # newest first; the failure stays on record
    with db.transaction(write=False) as session:
        actions = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.project_id == project.id, AuditEvent.action.like("qualification.%"))
            .order_by(AuditEvent.id)
        ).all()
        n_annotations = session.scalar(
            select(func.count()).where(
                Annotation.project_id == project.id, Annotation.item_id.in_(list(answers))
            )
        )
    assert actions == [
        "qualification.start",
        "qualification.passed",
        "qualification.start",
        "qualification.failed",
        "qualification.reset",
        "qualification.passed",
    ]
    assert n_annotations == 0
    notes = client.get(_api(project, "/notifications"), headers=admin.headers).json()
    assert [n["kind"] for n in notes] == ["qualification.failed"]


def test_too_few_gold_items_for_a_qualification(
    client: TestClient, db: Database, factory: Factory, admin: Actor
) -> None:
    annotator = factory.user()
    project, _, _ = _setup(
        client, db, factory, admin, n_gold=2, qualification_items=3,
        members={"annotator": annotator},
    )  # fmt: skip
    started = client.post(_api(project, "/qualification/start"), headers=annotator.headers)
    assert started.status_code == 409
    assert "2 gold item(s)" in started.json()["detail"] and "needs 3" in started.json()["detail"]


def _publish(
    client: TestClient, project: Project, admin: Actor, guidelines: str, note: str, **extra: Any
) -> dict[str, Any]:
    done = client.put(
        _api(project, "/schema"),
        json={"guidelines": guidelines, "change_note": note, **extra},
        headers=admin.headers,
    )
    assert done.status_code == 201, done.text
    return dict(done.json())


def test_recalibration_after_a_version_that_requires_it(
    client: TestClient, db: Database, factory: Factory, admin: Actor
) -> None:
    worker, newcomer = factory.user(), factory.user()
    project, answers, _ = _setup(
        client, db, factory, admin, n_gold=4, n_items=6, members={"annotator": worker}
    )
    h = worker.headers

    def work_one() -> int:
        lease = client.post(_api(project, "/next"), headers=h)
        assert lease.status_code == 200, lease.text
        item_id = int(lease.json()["item"]["id"])
        client.post(
            _api(project, f"/items/{item_id}/annotations"),
            json={"result": {"sentiment": "positive"}},
            headers=h,
        ).raise_for_status()
        return item_id

    work_one()  # under version 1
    v2 = GUIDELINES.replace("Complaints, sarcasm, warnings.", "Complaints and warnings.")
    _publish(client, project, admin, v2, "typo")
    work_one()  # a version without recalibration changes nothing
    bad = client.put(
        _api(project, "/schema"),
        json={"guidelines": v2 + "\nmore", "requires_recalibration": True},
        headers=admin.headers,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "recalibration_items"
    v3 = v2.replace("Complaints and warnings.", "Complaints and warnings. Sarcasm is negative.")
    published = _publish(
        client, project, admin, v3, "sarcasm is negative", requires_recalibration=True,
        recalibration_items=2,
    )  # fmt: skip
    assert (published["requires_recalibration"], published["recalibration_items"]) == (True, 2)
    refused = client.post(_api(project, "/next"), headers=h)
    assert refused.status_code == 403
    assert refused.json()["detail"].startswith(
        "recalibration needed: the guidelines changed since version 2; answer 2 gold item(s)"
    )
    status = client.get(_api(project, "/qualification"), headers=h).json()
    assert (status["state"], status["kind"], status["n_required"]) == ("needed", "recalibration", 2)
    changed = status["what_changed"]
    assert (changed["from_version"], changed["to_version"]) == (2, 3)
    assert [(c["version"], c["change_note"]) for c in changed["changes"]] == [
        (3, "sarcasm is negative")
    ]
    assert [(d["op"], d["text"]) for d in changed["lines"] if d["op"] != "="] == [
        ("-", "Complaints and warnings."),
        ("+", "Complaints and warnings. Sarcasm is negative."),
    ]
    # A newcomer has nothing to unlearn.
    client.put(
        _api(project, f"/members/{newcomer.user.username}"),
        json={"role": "annotator"},
        headers=admin.headers,
    ).raise_for_status()
    assert client.post(_api(project, "/next"), headers=newcomer.headers).status_code == 200

    feedback = _qualify(client, project, worker, answers, [True, True])
    assert all(f["qualification"]["kind"] == "recalibration" for f in feedback)
    assert feedback[-1]["qualification"]["status"] == "passed"
    work_one()
    _publish(client, project, admin, v3 + "\nA note.", "a note")
    work_one()  # passed version 3; version 4 does not require recalibration


def test_qualification_then_recalibration(
    client: TestClient, db: Database, factory: Factory, admin: Actor
) -> None:
    annotator = factory.user()
    project, answers, _ = _setup(
        client, db, factory, admin, n_gold=5, qualification_items=2, qualification_threshold=1.0,
        members={"annotator": annotator},
    )  # fmt: skip
    assert (
        _qualify(client, project, annotator, answers, [True, True])[-1]["qualification"]["status"]
        == "passed"
    )
    assert client.post(_api(project, "/next"), headers=annotator.headers).status_code == 200
    _publish(
        client, project, admin, GUIDELINES + "\nNew rule.", "new rule",
        requires_recalibration=True, recalibration_items=1,
    )  # fmt: skip
    refused = client.post(_api(project, "/next"), headers=annotator.headers)
    assert refused.status_code == 403 and "since version 1" in refused.json()["detail"]
    with db.transaction(write=False) as session:
        kinds = session.scalars(
            select(Qualification.kind).where(Qualification.user_id == annotator.user.id)
        ).all()
    assert kinds == ["qualification"]
    fb = _qualify(client, project, annotator, answers, [False])
    assert fb[-1]["qualification"]["status"] == "failed"
    assert (
        client.post(_api(project, "/next"), headers=annotator.headers)
        .json()["detail"]
        .startswith("recalibration needed: you did not pass (0 of 1 right")
    )


def test_a_qualification_due_during_a_recalibration_supersedes_it(
    client: TestClient, db: Database, factory: Factory, admin: Actor
) -> None:
    worker = factory.user()
    project, answers, _ = _setup(client, db, factory, admin, members={"annotator": worker})
    h = worker.headers
    lease = client.post(_api(project, "/next"), headers=h).json()
    client.post(
        _api(project, f"/items/{lease['item']['id']}/annotations"),
        json={"result": {"sentiment": "positive"}},
        headers=h,
    ).raise_for_status()  # under version 1
    _publish(
        client, project, admin, GUIDELINES + "\nNew rule.", "new rule",
        requires_recalibration=True, recalibration_items=2,
    )  # fmt: skip
    recalibration = client.post(_api(project, "/qualification/start"), headers=h).json()
    assert (recalibration["kind"], recalibration["status"]) == ("recalibration", "in_progress")
    client.patch(
        _api(project), json={"qualification_items": 2}, headers=admin.headers
    ).raise_for_status()
    status = client.get(_api(project, "/qualification"), headers=h).json()
    assert (status["state"], status["kind"]) == ("needed", "qualification")

    started = client.post(_api(project, "/qualification/start"), headers=h)
    assert started.status_code == 200, started.text
    assert (started.json()["kind"], started.json()["status"]) == ("qualification", "in_progress")
    assert started.json()["id"] != recalibration["id"]
    with db.transaction(write=False) as session:
        closed = session.get(Qualification, recalibration["id"])
        assert closed is not None and closed.status == "superseded"
        assert closed.finished_at is not None
        event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.project_id == project.id, AuditEvent.action == "qualification.start"
            )
        ).one()
        assert event.details["superseded"] == [recalibration["id"]]
    feedback = _qualify(client, project, worker, answers, [True, True])
    assert feedback[-1]["qualification"]["status"] == "passed"
    assert client.post(_api(project, "/next"), headers=h).status_code == 200
    history = client.get(_api(project, "/qualifications"), headers=admin.headers).json()
    assert [(r["kind"], r["status"]) for r in history] == [
        ("qualification", "passed"),
        ("recalibration", "superseded"),
    ]


def test_the_guidelines_diff_endpoint(
    client: TestClient, db: Database, factory: Factory, admin: Actor
) -> None:
    annotator, stranger = factory.user(), factory.user()
    project = factory.project(admin, guidelines="one\ntwo\nthree", members={"annotator": annotator})
    _publish(client, project, admin, "one\n2\nthree\nfour", "renamed two, added four")
    diff = client.get(_api(project, "/schema/versions/1/diff/2"), headers=annotator.headers)
    assert diff.status_code == 200
    body = diff.json()
    assert [(d["op"], d["text"], d["old"], d["new"]) for d in body["lines"]] == [
        ("=", "one", 1, 1),
        ("-", "two", 2, None),
        ("+", "2", None, 2),
        ("=", "three", 3, 3),
        ("+", "four", None, 4),
    ]
    assert body["unified"] == " one\n-two\n+2\n three\n+four"
    assert body["changes"] == [
        {"version": 2, "change_note": "renamed two, added four", "requires_recalibration": False}
    ]
    assert body["schema_changed"] is False
    assert (
        client.get(
            _api(project, "/schema/versions/1/diff/9"), headers=annotator.headers
        ).status_code
        == 404
    )
    assert (
        client.get(_api(project, "/schema/versions/1/diff/2"), headers=stranger.headers).status_code
        == 404
    )


def test_guideline_sections() -> None:
    text = "intro\n# A\n```\n# not a heading\n```\nx\n## B: dog\ny"
    assert [(s.heading, s.text, s.level) for s in sections(text)] == [
        ("", "intro", 0),
        ("A", "```\n# not a heading\n```\nx", 1),
        ("B: dog", "y", 2),
    ]
    found = section_for(text, "animal", ["animal/dog"])
    assert found is not None and found.heading == "B: dog"
    assert section_for(text, "x", ["cat"]) is not None  # "x" named in A's text
    assert section_for(text, "zebra", ["cat"]) is None
    assert [d.op for d in line_diff("a\nb", "a\nc")] == ["=", "-", "+"]
