"""Review and adjudication in the browser: a rejected answer goes back to its annotator and the
redo comes back to review; an adjudicator decides disagreeing items by picking an answer or by
editing one; the review settings save through the settings page."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.helpers import add_items
from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.test_labeling_text import CLASSIFY
from tests.conftest import Actor, Factory

SCHEMA: dict[str, Any] = {
    "fields": [{"name": "text", "type": "text"}],
    "controls": [
        *CLASSIFY["controls"],
        {"name": "entities", "type": "spans", "field": "text", "labels": ["PER", "ORG", "LOC"]},
    ],
}


def api(base: str, actor: Actor, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{base}/api/v1{path}", json=body, headers=actor.headers)
    response.raise_for_status()
    return response.json() if response.content else None


def span(label: str, start: int, end: int) -> dict[str, Any]:
    return {"label": label, "start": start, "end": end}


def test_reject_and_return_then_the_redo_is_reviewed(
    browser: Any, page: Any, live_server: str, db: Any, factory: Factory, admin: Actor
) -> None:
    annotator, reviewer = factory.user(), factory.user()
    project = factory.project(
        admin,
        schema=CLASSIFY,
        members={"annotator": annotator, "reviewer": reviewer},
        review_policy="all",
    )
    pid = project.id
    add_items(db, project, admin.user, ["a dull, lifeless film", "a joy"])
    first = api(live_server, annotator, "POST", f"/projects/{pid}/next")["item"]["id"]
    api(
        live_server,
        annotator,
        "POST",
        f"/projects/{pid}/items/{first}/annotations",
        {"result": {"sentiment": "positive"}},
    )

    log_in(page, live_server, reviewer)
    page.goto(f"{live_server}/projects/{pid}/review")
    card = page.locator(".review-card").first
    card.wait_for()
    assert page.locator("accord-reviewer").get_attribute("data-item-id") == str(first)
    card.locator(".reject-reason").fill("dull and lifeless is not positive")
    card.get_by_role("button", name="Reject").click()
    page.locator(".review-status.ok").wait_for()

    context = browser.new_context(viewport={"width": 1400, "height": 900})
    annotator_page = context.new_page()
    try:
        log_in(annotator_page, live_server, annotator)
        annotator_page.goto(f"{live_server}/projects/{pid}/label")
        annotator_page.locator(".labeler-notice .notice.error").wait_for()
        # The rejected item comes first, with the reason and the annotator's own answer.
        assert annotator_page.locator("accord-labeler").get_attribute("data-item-id") == str(first)
        notice = annotator_page.locator(".labeler-notice").inner_text()
        assert "dull and lifeless is not positive" in notice
        assert annotator_page.locator("accord-choices input[value=positive]").is_checked()
        annotator_page.screenshot(path=str(ARTIFACTS / "rework-on-label-page.png"), full_page=True)
        annotator_page.keyboard.press("2")
        annotator_page.keyboard.press("Control+Enter")
        annotator_page.wait_for_function(
            f"document.querySelector('accord-labeler').dataset.itemId !== '{first}'"
        )
    finally:
        context.close()

    # The redo is in the review queue: the same item, version 2, the new answer.
    page.goto(f"{live_server}/projects/{pid}/review")
    card = page.locator(".review-card").first
    card.wait_for()
    assert page.locator("accord-reviewer").get_attribute("data-item-id") == str(first)
    text = card.inner_text()
    assert "version 2" in text and "sentiment: negative" in text
    assert "last verdict" not in text
    card.get_by_role("button", name="Accept").click()
    page.locator(".review-status.ok").wait_for()
    queue = api(live_server, reviewer, "GET", f"/projects/{pid}/review/next")
    assert queue is None  # the second item was never answered: nothing else waits


def test_adjudicator_picks_one_answer_and_edits_another(
    page: Any, live_server: str, db: Any, factory: Factory, admin: Actor
) -> None:
    annotators = [factory.user() for _ in range(3)]
    adjudicator = factory.user()
    members = {f"annotator{i}": a for i, a in enumerate(annotators)} | {"reviewer": adjudicator}
    project = factory.project(
        admin, schema=SCHEMA, members=members, overlap=3, adjudication_below=0.8
    )
    pid = project.id
    texts = ["Alice met Bob in Paris", "Carol flew to Rome"]
    add_items(db, project, admin.user, texts)
    page_of = api(live_server, admin, "GET", f"/projects/{pid}/items")
    ids = {i["data"]["text"]: i["id"] for i in page_of["items"]}
    one, two = ids[texts[0]], ids[texts[1]]
    answers = {
        one: [
            {"sentiment": "positive", "entities": [span("PER", 0, 5)]},
            {"sentiment": "positive", "entities": [span("PER", 0, 5), span("PER", 10, 13)]},
            {"sentiment": "negative", "entities": [span("LOC", 17, 22)]},
        ],
        two: [
            {"sentiment": "positive"},
            {"sentiment": "negative", "entities": [span("LOC", 14, 18)]},
            {"sentiment": "negative", "entities": [span("PER", 0, 5)]},
        ],
    }
    made: dict[int, list[int]] = {}
    for item_id, results in answers.items():
        made[item_id] = [
            api(
                live_server,
                who,
                "POST",
                f"/projects/{pid}/items/{item_id}/annotations",
                {"result": result},
            )["id"]
            for who, result in zip(annotators, results, strict=True)
        ]
    names = [a.user.username for a in annotators]

    log_in(page, live_server, adjudicator)
    page.goto(f"{live_server}/projects/{pid}")
    page.get_by_role("link", name="Adjudicate").click()
    adjudicator_el = page.locator("accord-adjudicator[data-item-id]")
    adjudicator_el.wait_for()
    # The item with the lower agreement comes first: two (1/6) before one (5/18).
    assert adjudicator_el.get_attribute("data-item-id") == str(two)
    rows = page.locator(".answers-table tbody tr")
    assert rows.count() == 3
    assert [rows.nth(i).locator("th").inner_text().strip() for i in range(3)] == names
    assert rows.nth(1).locator("td[data-control=sentiment]").inner_text() == "negative"
    assert "LOC “Rome”" in rows.nth(1).locator("td[data-control=entities]").inner_text()
    # The spans of every answer are overlaid, one colour per annotator.
    marks = page.locator(".overlay[data-control=entities] mark")
    assert marks.count() == 2
    colours = {marks.nth(i).evaluate("m => m.style.getPropertyValue('--swatch')") for i in (0, 1)}
    assert len(colours) == 2
    assert page.locator(".annotator-legend li").count() == 3
    page.screenshot(path=str(ARTIFACTS / "adjudication-page.png"), full_page=True)

    page.get_by_role("button", name=f"Use {names[1]}'s answer").click()
    page.wait_for_function(
        f"document.querySelector('accord-adjudicator').dataset.itemId === '{one}'"
    )
    assert "decided" in page.locator(".adjudication-status").inner_text()
    decided = api(live_server, admin, "GET", f"/projects/{pid}/adjudications/{two}")
    truth = decided["adjudication"]
    assert truth["status"] == "resolved"
    assert truth["result"] == answers[two][1]
    assert truth["provenance"]["source"] == "annotation"
    assert truth["provenance"]["annotation_id"] == made[two][1]
    assert truth["provenance"]["author"] == names[1]
    assert truth["provenance"]["adjudicator"] == adjudicator.user.username

    # The second item: edit the second answer (the sentiment) and decide.
    page.get_by_role("button", name=f"Edit {names[1]}'s answer and decide").click()
    editor = page.locator(".adjudication-editor accord-labeler")
    editor.locator("accord-choices").wait_for()
    assert editor.locator("accord-choices input[value=positive]").is_checked()
    assert editor.locator(".span-text mark").count() == 2  # prefilled with that answer's spans
    editor.locator("accord-choices input[value=negative]").check()
    page.screenshot(path=str(ARTIFACTS / "adjudication-edit.png"), full_page=True)
    page.get_by_role("button", name="Decide with this result").click()
    page.locator(".empty-queue").wait_for()
    assert "Nothing to adjudicate" in page.locator(".empty-queue").inner_text()

    edited = api(live_server, admin, "GET", f"/projects/{pid}/adjudications/{one}")["adjudication"]
    assert edited["result"]["sentiment"] == "negative"
    assert [(s["label"], s["start"], s["end"]) for s in edited["result"]["entities"]] == [
        ("PER", 0, 5),
        ("PER", 10, 13),
    ]
    assert edited["provenance"]["source"] == "edited"
    assert edited["provenance"]["edited_from"] == made[one][1]
    assert [a["annotation_id"] for a in edited["provenance"]["answers"]] == made[one]


def test_review_settings_save_and_show_errors(
    page: Any, live_server: str, factory: Factory, admin: Actor
) -> None:
    manager = factory.user()
    project = factory.project(admin, schema=CLASSIFY, members={"manager": manager})
    log_in(page, live_server, manager)
    page.goto(f"{live_server}/projects/{project.id}/settings")
    page.select_option("#p-review-policy", "sample")
    page.fill("#p-review-rate", "1.5")
    form = page.locator("form.api-form").first
    form.get_by_role("button", name="Save").click()
    error = page.locator("#p-review-rate-error")
    error.wait_for()
    assert page.locator("#p-review-rate").get_attribute("aria-invalid") == "true"
    page.fill("#p-review-rate", "0.25")
    page.fill("#p-review-new", "5")
    page.fill("#p-adjudication", "0.6")
    form.get_by_role("button", name="Save").click()
    page.wait_for_function(
        "document.querySelector('form.api-form .form-status').textContent === 'Saved.'"
    )
    saved = api(live_server, admin, "GET", f"/projects/{project.id}")
    assert (
        saved["review_policy"],
        saved["review_sample_rate"],
        saved["review_new_until"],
        saved["adjudication_below"],
    ) == ("sample", 0.25, 5, 0.6)
