"""Training in the browser: the practice page's feedback loop (a wrong answer shows the right
one beside it, spans drawn read-only, and the guideline section; a right answer shows success),
the qualification gate on the labeling page (blocked, qualify, then real items; a failing
annotator sees the failure and no items until a manager resets it on the settings page), and the
"what changed" view of a recalibration."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from accord.core import annotations as annotation_ops
from accord.db.engine import Database
from accord.db.models import Item, Project, User
from tests.api.helpers import add_items
from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import TEXT_SCHEMA, Actor, Factory

GUIDELINES = """Label the sentiment of each review.

## Positive reviews

Praise and recommendations.

## Negative reviews

Complaints and warnings.

## Entities

Mark PER for people.
"""


def call(base: str, actor: Actor, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{base}/api/v1{path}", json=body, headers=actor.headers)
    response.raise_for_status()
    return response.json() if response.content else None


def _gold_project(
    base: str,
    db: Database,
    factory: Factory,
    admin: Actor,
    gold: list[dict[str, Any]],
    **settings: Any,
) -> tuple[Project, dict[int, dict[str, Any]], list[int]]:
    project = factory.project(admin, guidelines=GUIDELINES, **settings)
    texts = [f"Ann wrote review {k}" for k in range(len(gold) + 3)]
    add_items(db, project, admin.user, texts)
    with db.transaction(write=False) as session:
        rows = session.execute(select(Item.id, Item.data).where(Item.project_id == project.id))
        ids = {data["text"]: item_id for item_id, data in rows}
    answers = {}
    for text, answer in zip(texts, gold, strict=False):
        call(
            base, admin, "PUT", f"/projects/{project.id}/items/{ids[text]}/gold", {"result": answer}
        )
        answers[ids[text]] = answer
    return project, answers, [ids[t] for t in texts[len(gold) :]]


def _other(label: str) -> str:
    return "negative" if label == "positive" else "positive"


def _item_id(page: Any) -> int:
    page.wait_for_function(
        "document.querySelector('accord-trainer')?.dataset.itemId"
        " && document.querySelector('accord-trainer .submit-answer')"
    )
    return int(page.locator("accord-trainer").get_attribute("data-item-id"))


def _answer(page: Any, label: str) -> None:
    trainer = page.locator("accord-trainer")
    trainer.locator(f".training-ask accord-choices input[value='{label}']").check()
    trainer.get_by_role("button", name="Check my answer").click()
    page.wait_for_function(
        "() => { const boxes = document.querySelectorAll('.training-feedback .training-item');"
        " return boxes.length === 2 && [...boxes].every((b) => b.inert); }"
    )


def _checked(page: Any, side: str) -> list[str]:
    return list(
        page.locator(f"accord-trainer .{side} accord-choices input:checked").evaluate_all(
            "inputs => inputs.map(i => i.value)"
        )
    )


def test_the_practice_feedback_loop(
    page: Any, live_server: str, db: Database, factory: Factory, admin: Actor
) -> None:
    annotator = factory.user()
    with_span = {"sentiment": "negative", "entities": [{"label": "PER", "start": 0, "end": 3}]}
    project, answers, _ = _gold_project(
        live_server, db, factory, admin,
        [with_span, {"sentiment": "positive"}, {"sentiment": "negative"}],
        members={"annotator": annotator},
    )  # fmt: skip
    span_item = next(i for i, a in answers.items() if "entities" in a)
    log_in(page, live_server, annotator)
    page.goto(f"{live_server}/projects/{project.id}")
    page.get_by_role("link", name="Practice").click()
    page.wait_for_url(f"**/projects/{project.id}/practice")

    trainer = page.locator("accord-trainer")
    right_done = False
    seen = []
    for _ in range(len(answers)):
        item_id = _item_id(page)
        seen.append(item_id)
        truth = answers[item_id]
        # The span item and one of the others are answered wrong, one right.
        answer_right = item_id != span_item and not right_done
        given = truth["sentiment"] if answer_right else _other(truth["sentiment"])
        _answer(page, given)
        feedback = trainer.locator(".training-feedback")
        heading = "Positive reviews" if truth["sentiment"] == "positive" else "Negative reviews"
        row = feedback.locator("table.feedback-scores tr[data-control='sentiment']")
        assert row.locator(".your-value").inner_text() == given
        assert row.locator(".correct-value").inner_text() == truth["sentiment"]
        assert _checked(page, "feedback-yours") == [given]
        assert _checked(page, "feedback-correct") == [truth["sentiment"]]
        boxes = feedback.locator(".training-item")
        assert boxes.evaluate_all("bs => bs.map(b => b.inert)") == [True, True]
        if answer_right:
            right_done = True
            assert "correct" in feedback.get_attribute("class")
            assert feedback.locator(".feedback-verdict").inner_text() == "Right!"
            assert row.locator(".score").inner_text() == "100%"
        else:
            assert "wrong" in feedback.get_attribute("class")
            assert feedback.locator(".feedback-verdict").inner_text() == "Not quite"
            assert row.locator(".score").inner_text() == "0%"
            assert feedback.locator(".guideline-heading").inner_text() == heading
            assert (
                feedback.locator(".guideline-text").inner_text()
                == {
                    "Positive reviews": "Praise and recommendations.",
                    "Negative reviews": "Complaints and warnings.",
                }[heading]
            )
        if item_id == span_item:
            correct_marks = feedback.locator(".feedback-correct accord-text-spans mark")
            assert correct_marks.count() >= 1
            assert set(correct_marks.evaluate_all("ms => ms.map(m => m.textContent)")) <= {"Ann"}
            assert feedback.locator(".feedback-yours accord-text-spans mark").count() == 0
            entities = feedback.locator("table.feedback-scores tr[data-control='entities']")
            assert entities.locator(".correct-value").inner_text() == "PER 0–3"
            assert entities.locator(".your-value").inner_text() == "—"
            page.screenshot(path=str(ARTIFACTS / "practice-feedback.png"), full_page=True)
        trainer.get_by_role("button", name="Next practice item").click()
    assert sorted(seen) == sorted(answers) and right_done
    trainer.locator(".practice-done").wait_for()
    assert trainer.locator("h2").inner_text() == "No practice items left"
    # Nothing of it was stored as an annotation.
    listed = call(live_server, admin, "GET", f"/projects/{project.id}/items?status=gold")
    assert all(i["n_done"] == 0 for i in listed["items"])


def _qualify(page: Any, answers: dict[int, Any], rights: list[bool]) -> None:
    trainer = page.locator("accord-trainer")
    for k, right in enumerate(rights):
        item_id = _item_id(page)
        truth = answers[item_id]["sentiment"]
        _answer(page, truth if right else _other(truth))
        progress = trainer.locator(".attempt-progress").inner_text()
        assert progress == f"{k + 1} of {len(rights)} answered, {sum(rights[: k + 1])} right"
        last = k == len(rights) - 1
        trainer.get_by_role("button", name="See the result" if last else "Next item").click()


def test_the_qualification_gate(
    browser: Any, page: Any, live_server: str, db: Database, factory: Factory, admin: Actor
) -> None:
    good, poor, manager = factory.user(), factory.user(), factory.user()
    project, answers, ordinary = _gold_project(
        live_server, db, factory, admin,
        [{"sentiment": "positive"}, {"sentiment": "negative"}, {"sentiment": "positive"}],
        qualification_items=2, qualification_threshold=1.0,
        members={"annotator": good, "annotator2": poor, "manager": manager},
    )  # fmt: skip
    log_in(page, live_server, good)
    page.goto(f"{live_server}/projects/{project.id}/label")
    labeler = page.locator("accord-labeler").first
    gate = page.locator(".training-gate")
    gate.wait_for()
    assert gate.locator("h2").inner_text() == "Qualification needed"
    assert "answer 2 items" in gate.locator(".gate-explanation").inner_text()
    assert "100%" in gate.locator(".gate-explanation").inner_text()
    assert page.get_by_role("button", name="Submit").count() == 0
    page.get_by_role("button", name="Start").click()
    _qualify(page, answers, [True, True])
    result = page.locator(".training-result")
    result.wait_for()
    assert result.locator("h2").inner_text() == "Qualification passed"
    assert result.locator(".result-score").inner_text() == "2 of 2 right (100%; 100% needed)"
    page.get_by_role("button", name="Start labeling").click()
    page.wait_for_function("document.querySelector('accord-labeler:not([preview])').dataset.itemId")
    assert int(labeler.get_attribute("data-item-id")) in ordinary
    assert labeler.get_by_role("button", name="Submit").count() == 1

    # The failing annotator: the failure, and no items, even after a reload.
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    other = context.new_page()
    errors: list[str] = []
    other.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(other, live_server, poor)
    other.goto(f"{live_server}/projects/{project.id}/label")
    other.get_by_role("button", name="Start").click()
    _qualify(other, answers, [False, True])
    failed = other.locator(".training-result.failed")
    failed.wait_for()
    assert failed.locator("h2").inner_text() == "Qualification not passed"
    assert failed.locator(".result-score").inner_text() == "1 of 2 right (50%; 100% needed)"
    other.screenshot(path=str(ARTIFACTS / "qualification-failed.png"), full_page=True)
    other.reload()
    other.locator(".training-result.failed").wait_for()
    assert other.get_by_role("button", name="Submit").count() == 0
    refused = httpx.post(f"{live_server}/api/v1/projects/{project.id}/next", headers=poor.headers)
    assert refused.status_code == 403 and "did not pass" in refused.json()["detail"]

    # The manager resets it on the settings page; the annotator may try again.
    boss = context.new_page()
    boss.on("pageerror", lambda exc: errors.append(str(exc)))
    context.clear_cookies()
    log_in(boss, live_server, manager)
    boss.goto(f"{live_server}/projects/{project.id}/settings")
    row = boss.locator(f"table.qualification-table tr[data-annotator='{poor.user.username}']")
    assert row.locator(".status").inner_text() == "failed"
    good_row = boss.locator(f"table.qualification-table tr[data-annotator='{good.user.username}']")
    assert good_row.locator(".status").inner_text() == "passed"
    assert good_row.get_by_role("button", name="Reset").count() == 0
    boss.screenshot(path=str(ARTIFACTS / "qualification-results.png"), full_page=True)
    row.get_by_role("button", name="Reset").click()
    reopened = f"tr[data-annotator='{poor.user.username}'][data-status='in_progress']"
    boss.locator(f"table.qualification-table {reopened}").wait_for()
    assert (
        boss.locator(".qualification-status").inner_text() == f"{poor.user.username} may try again."
    )
    context.clear_cookies()
    log_in(other, live_server, poor)
    other.goto(f"{live_server}/projects/{project.id}/label")
    assert _item_id(other) in answers
    context.close()
    assert not errors, errors


def test_recalibration_shows_what_changed(
    page: Any, live_server: str, db: Database, factory: Factory, admin: Actor
) -> None:
    annotator = factory.user()
    project, answers, ordinary = _gold_project(
        live_server, db, factory, admin, [{"sentiment": "positive"}, {"sentiment": "negative"}],
        schema=TEXT_SCHEMA, members={"annotator": annotator},
    )  # fmt: skip
    with db.transaction() as session:
        p, user = session.get(Project, project.id), session.get(User, annotator.user.id)
        assert p is not None and user is not None
        annotation_ops.submit(session, p, user, ordinary[0], {"sentiment": "positive"})
    call(
        live_server, admin, "PUT", f"/projects/{project.id}/schema",
        {
            "guidelines": GUIDELINES.replace(" and warnings.", ", warnings, sarcasm."),
            "change_note": "sarcasm is negative",
            "requires_recalibration": True,
            "recalibration_items": 1,
        },
    )  # fmt: skip
    log_in(page, live_server, annotator)
    page.goto(f"{live_server}/projects/{project.id}/label")
    gate = page.locator(".training-gate[data-kind='recalibration']")
    gate.wait_for()
    assert gate.locator("h2").inner_text() == "Recalibration needed"
    assert gate.locator(".change-notes li").all_inner_texts() == ["Version 2: sarcasm is negative"]
    assert gate.locator(".diff-removed").all_inner_texts() == ["- Complaints and warnings.\n"]
    assert gate.locator(".diff-added").all_inner_texts() == ["+ Complaints, warnings, sarcasm.\n"]
    page.screenshot(path=str(ARTIFACTS / "recalibration-what-changed.png"), full_page=True)
    page.get_by_role("button", name="Start").click()
    _qualify(page, answers, [True])
    page.locator(".training-result.passed").wait_for()
    assert page.locator(".training-result h2").inner_text() == "Recalibration passed"
    page.get_by_role("button", name="Start labeling").click()
    page.wait_for_function("document.querySelector('accord-labeler:not([preview])').dataset.itemId")
    assert int(page.locator("accord-labeler").first.get_attribute("data-item-id")) in ordinary[1:]
