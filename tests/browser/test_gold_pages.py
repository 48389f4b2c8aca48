"""Gold items in the browser: a manager makes items gold from their annotations on the item page
and finds them with the data browser's gold filter; an annotator who answers gold items wrong is
paused on the labeling page and told why; the manager is notified on the overview, sees the
pause on the quality page and resumes them; annotators never see anything of the gold items;
the gold settings save and show the server's errors."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from accord.core import annotations as annotation_ops
from accord.db.engine import Database
from accord.db.models import Annotation, Item, Project, User
from tests.api.helpers import add_items
from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import Actor, Factory, sentiment_schema

THREE_LABELS = sentiment_schema("positive", "negative", "neutral")
TWO_LABELS = sentiment_schema()


def call(base: str, actor: Actor, method: str, path: str, body: Any = None, **params: Any) -> Any:
    response = httpx.request(
        method, f"{base}/api/v1{path}", json=body, params=params, headers=actor.headers
    )
    response.raise_for_status()
    return response.json() if response.content else None


def item_ids(db: Database, project: Project) -> dict[str, int]:
    with db.transaction(write=False) as session:
        rows = session.execute(select(Item.id, Item.data).where(Item.project_id == project.id))
        return {data["text"]: item_id for item_id, data in rows}


def annotate(db: Database, project: Project, actor: Actor, item_id: int, label: str) -> int:
    with db.transaction() as session:
        p, user = session.get(Project, project.id), session.get(User, actor.user.id)
        assert p is not None and user is not None
        return annotation_ops.submit(session, p, user, item_id, {"sentiment": label}).id


def gold_of(base: str, manager: Actor, project: Project) -> dict[int, dict[str, Any]]:
    listed = call(base, manager, "GET", f"/projects/{project.id}/gold")
    return {g["item_id"]: g["result"] for g in listed}


def shown_json(locator: Any) -> Any:
    return json.loads(locator.inner_text())


def open_labeling(page: Any, base: str, annotator: Actor, project_id: int) -> list[Any]:
    """Log in as the annotator and open the labeling page; the returned list collects every
    response to the page's requests for the next item."""
    responses: list[Any] = []
    page.on(
        "response",
        lambda r: (
            responses.append(r)
            if r.request.method == "POST" and r.url.endswith(f"/projects/{project_id}/next")
            else None
        ),
    )
    log_in(page, base, annotator)
    page.goto(f"{base}/projects/{project_id}/label")
    return responses


def test_a_manager_makes_items_gold_from_annotations_and_filters_them(
    page: Any, live_server: str, db: Database, factory: Factory, admin: Actor
) -> None:
    manager, reviewer, ann, bob = factory.user(), factory.user(), factory.user(), factory.user()
    project = factory.project(
        admin,
        schema=THREE_LABELS,
        overlap=2,
        gold_rate=0.2,
        members={"manager": manager, "reviewer": reviewer, "annotator": ann, "annotator2": bob},
    )
    add_items(db, project, admin.user, [f"sentence {k}" for k in range(6)])
    ids = item_ids(db, project)
    first, second, third = ids["sentence 0"], ids["sentence 1"], ids["sentence 2"]
    a_first = annotate(db, project, ann, first, "positive")
    b_first = annotate(db, project, bob, first, "negative")
    a_second = annotate(db, project, ann, second, "neutral")  # "neutral" goes away in v2
    b_second = annotate(db, project, bob, second, "negative")
    annotate(db, project, ann, third, "negative")
    call(
        live_server,
        admin,
        "PUT",
        f"/projects/{project.id}/schema",
        {"schema": TWO_LABELS, "change_note": "no neutral any more"},
    )

    log_in(page, live_server, manager)
    page.goto(f"{live_server}/projects/{project.id}/items/{first}")
    card = page.locator("#item-gold")
    assert card.locator(".not-gold").inner_text().startswith("Not a gold item.")
    assert page.locator(".item-status").inner_text() == "done"
    use = page.get_by_role("button", name="Use as gold answer")
    assert use.count() == 2
    first_card = page.locator(f"article.annotation[data-annotation='{a_first}']")
    first_card.get_by_role("button", name="Use as gold answer").click()
    feedback = card.locator(".gold-feedback .notice.ok")
    feedback.wait_for()
    assert feedback.inner_text() == (
        f"The answer of {ann.user.username} (annotation {a_first}) is now the item's gold answer."
    )
    assert gold_of(live_server, manager, project) == {first: {"sentiment": "positive"}}
    assert shown_json(card.locator(".gold-answer")) == {"sentiment": "positive"}
    assert page.locator(".item-status").inner_text() == "gold"
    assert first_card.locator(".is-gold-answer").inner_text() == "the gold answer"
    assert first_card.get_by_role("button", name="Use as gold answer").count() == 0
    other = page.locator(f"article.annotation[data-annotation='{b_first}']")
    assert other.locator(".gold-score").inner_text() == "differs from the gold answer"
    assert other.locator(".gold-partial").count() == 0  # a choice is right or wrong
    assert card.locator(".gold-tally").inner_text() == "1 of 2 answer(s) right"
    assert page.evaluate("document.activeElement.id") == "item-gold-title"

    # Another annotation becomes the known answer instead: the scores follow.
    other.get_by_role("button", name="Use as gold answer").click()
    feedback.filter(has_text=f"{bob.user.username} (annotation {b_first})").wait_for()
    assert gold_of(live_server, manager, project) == {first: {"sentiment": "negative"}}
    assert shown_json(card.locator(".gold-answer")) == {"sentiment": "negative"}
    assert first_card.locator(".gold-score").inner_text() == "differs from the gold answer"
    assert other.locator(".is-gold-answer").count() == 1
    page.screenshot(path=str(ARTIFACTS / "item-gold.png"), full_page=True)

    # An answer the current schema refuses: the server's reasons show and nothing changes.
    page.goto(f"{live_server}/projects/{project.id}/items/{second}")
    refused = httpx.put(
        f"{live_server}/api/v1/projects/{project.id}/items/{second}/gold",
        json={"result": {"sentiment": "neutral"}},
        headers=manager.headers,
    )
    assert refused.status_code == 422
    problem = refused.json()["errors"][0]
    page.locator(f"article.annotation[data-annotation='{a_second}']").get_by_role(
        "button", name="Use as gold answer"
    ).click()
    error = card.locator(".gold-feedback .notice.error")
    error.wait_for()
    assert error.locator("p").inner_text() == "This answer cannot be the gold answer:"
    assert error.locator("li").all_inner_texts() == [
        f"sentiment: {problem['message']} (at {problem['path']})"
        if problem["path"]
        else f"sentiment: {problem['message']}"
    ]
    assert "'neutral' is not a label" in error.inner_text()
    assert card.locator(".not-gold").count() == 1
    assert gold_of(live_server, manager, project) == {first: {"sentiment": "negative"}}
    page.locator(f"article.annotation[data-annotation='{b_second}']").get_by_role(
        "button", name="Use as gold answer"
    ).click()
    card.locator(".gold-answer").wait_for()
    assert error.count() == 0
    assert gold_of(live_server, manager, project)[second] == {"sentiment": "negative"}

    page.goto(f"{live_server}/projects/{project.id}/items/{third}")
    page.get_by_role("button", name="Use as gold answer").click()
    card.locator(".gold-answer").wait_for()
    assert set(gold_of(live_server, manager, project)) == {first, second, third}

    # Removing gold status asks first; dismissing changes nothing.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Remove gold status").click()
    assert set(gold_of(live_server, manager, project)) == {first, second, third}
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove gold status").click()
    card.locator(".not-gold").wait_for()
    assert card.locator(".gold-feedback").inner_text() == "The item is an ordinary item again."
    assert page.locator(".item-status").inner_text() == "open"  # one label, overlap 2
    assert set(gold_of(live_server, manager, project)) == {first, second}

    # The data browser: the gold filter lists exactly the gold items, marked as gold.
    page.goto(f"{live_server}/projects/{project.id}/items")
    options = page.locator("#f-status option").evaluate_all("os => os.map(o => o.value)")
    assert options == ["", "open", "done", "gold", "excluded"]
    rows = page.locator("table.grid tbody tr")
    marked = {
        int(r.get_attribute("data-item"))
        for r in rows.all()
        if r.locator(".badge.gold").count() == 1
    }
    assert marked == {first, second}
    page.select_option("#f-status", "gold")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/items?*status=gold*")
    listed = page.locator("table.grid tbody td:first-child a").all_inner_texts()
    api_gold = call(live_server, manager, "GET", f"/projects/{project.id}/items", status="gold")
    assert [int(t.lstrip("#")) for t in listed] == [i["id"] for i in api_gold["items"]]
    assert [i["id"] for i in api_gold["items"]] == [first, second]
    assert page.locator("table.grid tbody .badge").all_inner_texts()[:2] == ["gold", "gold"]
    assert page.locator("#f-status").input_value() == "gold"
    page.screenshot(path=str(ARTIFACTS / "browse-gold.png"), full_page=True)

    # A reviewer sees the gold answer but cannot change it.
    page.context.clear_cookies()
    log_in(page, live_server, reviewer)
    page.goto(f"{live_server}/projects/{project.id}/items/{first}")
    assert shown_json(page.locator("#item-gold .gold-answer")) == {"sentiment": "negative"}
    assert page.get_by_role("button", name="Use as gold answer").count() == 0
    assert page.get_by_role("button", name="Remove gold status").count() == 0
    page.goto(f"{live_server}/projects/{project.id}/items?status=gold")
    listed = page.locator("table.grid tbody td:first-child a").all_inner_texts()
    assert listed == [f"#{first}", f"#{second}"]


def _next_bodies(responses: list[Any]) -> list[tuple[int, Any]]:
    out = []
    for response in responses:
        body = response.json() if response.status != 204 else None
        out.append((response.status, body))
    responses.clear()
    return out


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def _assert_clean(status: int, body: Any) -> None:
    """A /next answer as an annotator gets it: nothing that tells a gold item apart."""
    assert status in (200, 204), (status, body)
    if body is None:
        return
    assert set(body["item"]) == {"id", "data", "meta", "media", "media_info"}
    assert not any("gold" in key.lower() or key == "status" for key in _keys(body)), body
    assert "gold" not in json.dumps(body).lower(), body


def _wait_for_next(page: Any, after: int | None) -> None:
    page.wait_for_function(
        "(previous) => { const l = document.querySelector('accord-labeler');"
        " if (l.hasAttribute('aria-busy')) return false;"
        " return !!l.querySelector('.paused-card, .done-card')"
        " || (l.dataset.itemId && l.dataset.itemId !== String(previous)); }",
        arg=after,
    )


def _answer(page: Any, label: str) -> None:
    labeler = page.locator("accord-labeler")
    labeler.locator(f"accord-choices input[value='{label}']").check()
    labeler.get_by_role("button", name="Submit").click()


def _no_gold_in_dom(page: Any) -> None:
    assert "gold" not in page.content().lower()


@pytest.fixture()
def gold_project(db: Database, factory: Factory, admin: Actor) -> tuple[Project, dict[int, str]]:
    """Ordinary items and six gold items (known answers alternating positive/negative), gold
    served at the highest rate, an annotator paused under 60% after three gold answers."""
    project = factory.project(
        admin,
        schema=TWO_LABELS,
        overlap=1,
        gold_rate=0.5,
        gold_min_answers=3,
        gold_pause_below=0.6,
    )
    add_items(db, project, admin.user, [f"sentence {k}" for k in range(46)])
    ids = item_ids(db, project)
    answers = {ids[f"sentence {k}"]: ("positive" if k % 2 else "negative") for k in range(6)}
    return project, answers


def _make_gold(base: str, admin: Actor, project: Project, answers: dict[int, str]) -> None:
    for item_id, label in answers.items():
        call(
            base,
            admin,
            "PUT",
            f"/projects/{project.id}/items/{item_id}/gold",
            {"result": {"sentiment": label}},
        )


def test_a_paused_annotator_sees_why_and_a_manager_resumes_them(
    browser: Any,
    page: Any,
    live_server: str,
    db: Database,
    factory: Factory,
    admin: Actor,
    gold_project: tuple[Project, dict[int, str]],
) -> None:
    project, answers = gold_project
    _make_gold(live_server, admin, project, answers)
    annotator, manager = factory.user(), factory.user()
    for actor, role in ((annotator, "annotator"), (manager, "manager")):
        path = f"/projects/{project.id}/members/{actor.user.username}"
        call(live_server, admin, "PUT", path, {"role": role})

    responses = open_labeling(page, live_server, annotator, project.id)
    labeler = page.locator("accord-labeler")
    wrong_gold: list[int] = []
    ordinary = 0
    previous: int | None = None
    while True:
        _wait_for_next(page, previous)
        bodies = _next_bodies(responses)
        if labeler.locator(".paused-card").count():
            (refusal,) = bodies
            break
        for status, body in bodies:
            _assert_clean(status, body)
        _no_gold_in_dom(page)
        previous = int(labeler.get_attribute("data-item-id"))
        if previous in answers:
            wrong_gold.append(previous)
            _answer(page, "negative" if answers[previous] == "positive" else "positive")
        else:
            ordinary += 1
            _answer(page, "positive")
        assert len(wrong_gold) <= 3, "still not paused after the minimum of gold answers"

    # Paused right after the third wrong gold answer, with the server's reason.
    assert len(wrong_gold) == 3
    status, body = refusal
    assert status == 403 and body["detail"].startswith("you are paused on this project: ")
    (pause,) = call(live_server, manager, "GET", f"/projects/{project.id}/pauses")
    assert pause["user_id"] == annotator.user.id
    reason = pause["pause_reason"]
    assert reason == "gold accuracy 0% (0 of 3) is under the project's 60%"
    card = labeler.locator(".paused-card")
    assert card.locator("h2").inner_text() == "You are paused on this project"
    assert card.locator(".pause-reason").inner_text() == reason
    assert labeler.locator(".labeler-notice .notice.error").count() == 0  # not a generic error
    assert labeler.get_by_role("button", name="Submit").count() == 0
    page.screenshot(path=str(ARTIFACTS / "label-paused.png"), full_page=True)

    # The page stops asking: no request to the queue until the annotator asks again.
    page.wait_for_timeout(600)
    assert responses == []
    page.keyboard.press("Control+ArrowLeft")  # no reopening of old answers either
    page.wait_for_timeout(300)
    assert labeler.locator(".paused-card").count() == 1 and responses == []
    page.get_by_role("button", name="Check again").click()
    page.wait_for_function("document.querySelector('.paused-card button:not(:disabled)')")
    ((status, _),) = _next_bodies(responses)
    assert status == 403
    assert labeler.locator(".pause-reason").inner_text() == reason
    page.goto(f"{live_server}/projects/{project.id}")
    notice = page.locator(".paused-notice")
    assert reason in notice.inner_text()
    assert page.get_by_role("link", name="Start labeling").count() == 0
    responses.clear()

    # The manager: the notice on the overview, the pause on the quality page, Resume.
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    boss = context.new_page()
    errors: list[str] = []
    boss.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(boss, live_server, manager)
    boss.goto(f"{live_server}/projects/{project.id}")
    (note,) = call(live_server, manager, "GET", f"/projects/{project.id}/notifications")
    assert note["message"] == f"{annotator.user.username} was paused: {reason}"
    shown = boss.locator(f".notification-list li[data-notification='{note['id']}']")
    assert shown.locator(".notification-message").inner_text() == note["message"]
    assert boss.locator(".notifications .unread-count").inner_text() == "1"
    boss.screenshot(path=str(ARTIFACTS / "overview-notification.png"), full_page=True)

    shown.get_by_role("link", name="gold accuracy and Resume").click()
    boss.wait_for_url(f"**/projects/{project.id}/quality#gold-accuracy")
    (accuracy,) = call(live_server, manager, "GET", f"/projects/{project.id}/gold/accuracy")
    assert (accuracy["n_answers"], accuracy["n_correct"], accuracy["paused"]) == (3, 0, True)
    row = boss.locator(f"table.gold-table tr[data-annotator='{annotator.user.username}']")
    cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
    pct = lambda v: f"{100 * v:.1f}%"  # noqa: E731
    assert cells[:4] == [
        annotator.user.username,
        "3",
        "0",
        f"{pct(accuracy['accuracy'])} ({pct(accuracy['low'])} – {pct(accuracy['high'])})",
    ]
    assert cells[3] == "0.0% (0.0% – 56.1%)"
    assert row.locator(".badge.paused").inner_text() == "paused"
    assert row.locator(".pause-reason").inner_text() == reason
    assert "6 gold item(s)" in boss.locator(".gold-summary").inner_text()
    boss.screenshot(path=str(ARTIFACTS / "quality-gold.png"), full_page=True)
    row.get_by_role("button", name="Resume").click()
    row.locator(".badge.active").wait_for()
    assert row.get_by_role("button", name="Resume").count() == 0
    assert boss.locator(".gold-feedback").inner_text() == (
        f"{annotator.user.username} is resumed and can label again."
    )
    assert call(live_server, manager, "GET", f"/projects/{project.id}/pauses") == []
    boss.reload()
    assert row.locator(".badge.active").inner_text() == "active"
    assert row.get_by_role("button", name="Resume").count() == 0

    boss.goto(f"{live_server}/projects/{project.id}")
    shown.get_by_role("button", name="Mark as read").click()
    boss.locator(".no-notifications").wait_for()
    assert shown.count() == 0
    assert boss.locator(".notifications .unread-count").inner_text() == "0"
    assert (
        call(live_server, manager, "GET", f"/projects/{project.id}/notifications", unread=True)
        == []
    )
    boss.reload()
    assert boss.locator(".notification-list li").count() == 0
    context.close()
    assert not errors, errors

    # The annotator labels again.
    page.goto(f"{live_server}/projects/{project.id}/label")
    _wait_for_next(page, None)
    ((status, body),) = _next_bodies(responses)
    _assert_clean(status, body)
    item_id = int(labeler.get_attribute("data-item-id"))
    assert item_id == body["item"]["id"]
    _answer(page, answers.get(item_id, "positive"))
    _wait_for_next(page, item_id)
    with db.transaction(write=False) as session:
        stored = session.scalar(
            select(func.count()).where(
                Annotation.item_id == item_id, Annotation.user_id == annotator.user.id
            )
        )
    assert stored == 1
    assert len(wrong_gold) + ordinary + 1 == len(
        call(live_server, admin, "GET", f"/projects/{project.id}/annotations", limit=1000)
    )


def test_annotators_never_see_anything_of_the_gold_items(
    page: Any,
    live_server: str,
    db: Database,
    factory: Factory,
    admin: Actor,
    gold_project: tuple[Project, dict[int, str]],
) -> None:
    project, answers = gold_project
    call(live_server, admin, "PATCH", f"/projects/{project.id}", {"gold_pause_below": 0})
    _make_gold(live_server, admin, project, answers)
    annotator = factory.user()
    path = f"/projects/{project.id}/members/{annotator.user.username}"
    call(live_server, admin, "PUT", path, {"role": "annotator"})

    responses = open_labeling(page, live_server, annotator, project.id)
    labeler = page.locator("accord-labeler")
    served: list[int] = []
    previous: int | None = None
    while True:
        _wait_for_next(page, previous)
        for status, body in _next_bodies(responses):
            _assert_clean(status, body)
        _no_gold_in_dom(page)
        if labeler.locator(".done-card").count():
            break
        previous = int(labeler.get_attribute("data-item-id"))
        served.append(previous)
        _answer(page, answers.get(previous, "positive"))
    assert len(served) == len(set(served))
    assert set(answers) & set(served), "no gold item was served at a gold rate of 0.5"
    ordinary = set(item_ids(db, project).values()) - set(answers)
    assert ordinary <= set(served)

    (own,) = call(live_server, annotator, "GET", f"/projects/{project.id}/gold/accuracy")
    assert own["n_correct"] == own["n_answers"] == len(set(answers) & set(served))

    # The overview counts no gold items; the pages that show them are closed to annotators.
    page.goto(f"{live_server}/projects/{project.id}")
    _no_gold_in_dom(page)
    assert "Total" in page.locator(".counts").inner_text()
    for closed in (f"items/{next(iter(answers))}", "items?status=gold", "quality"):
        response = page.goto(f"{live_server}/projects/{project.id}/{closed}")
        assert response is not None and response.status == 403, closed
        _no_gold_in_dom(page)


def test_gold_settings_save_and_show_the_servers_errors(
    page: Any, live_server: str, factory: Factory, admin: Actor
) -> None:
    manager = factory.user()
    project = factory.project(admin, schema=TWO_LABELS, members={"manager": manager})
    log_in(page, live_server, manager)
    page.goto(f"{live_server}/projects/{project.id}/settings")
    rate, minimum, below = (
        page.locator("#p-gold-rate"),
        page.locator("#p-gold-min"),
        page.locator("#p-gold-pause"),
    )
    stored = call(live_server, admin, "GET", f"/projects/{project.id}")
    assert float(rate.input_value()) == stored["gold_rate"] == 0.0
    assert int(minimum.input_value()) == stored["gold_min_answers"]
    assert float(below.input_value()) == stored["gold_pause_below"] == 0.0
    save = page.locator("form[data-method=PATCH] button[type=submit]")
    status = page.locator("form[data-method=PATCH] .form-status")

    rate.fill("0.125")
    minimum.fill("8")
    below.fill("0.7")
    assert page.locator("output[for=p-gold-rate]").inner_text() == "= 12.5%"
    assert page.locator("output[for=p-gold-pause]").inner_text() == "= 70%"
    save.click()
    status.filter(has_text="Saved.").wait_for()
    stored = call(live_server, admin, "GET", f"/projects/{project.id}")
    assert (stored["gold_rate"], stored["gold_min_answers"], stored["gold_pause_below"]) == (
        0.125,
        8,
        0.7,
    )

    for name, field, bad in (
        ("gold_rate", "#p-gold-rate", "0.6"),
        ("gold_min_answers", "#p-gold-min", "0"),
        ("gold_pause_below", "#p-gold-pause", "1.5"),
    ):
        refused = httpx.patch(
            f"{live_server}/api/v1/projects/{project.id}",
            json={name: float(bad)},
            headers=manager.headers,
        )
        assert refused.status_code == 422
        problem = refused.json()["errors"][0]
        assert problem["field"] == name
        page.fill(field, bad)
        save.click()
        error = page.locator(f"{field}-error")
        error.wait_for()
        assert error.inner_text() == (problem.get("msg") or problem["message"])
        assert page.locator(field).get_attribute("aria-invalid") == "true"
        assert status.inner_text() == "Please correct the marked fields."
        page.reload()
    stored = call(live_server, admin, "GET", f"/projects/{project.id}")
    assert (stored["gold_rate"], stored["gold_min_answers"], stored["gold_pause_below"]) == (
        0.125,
        8,
        0.7,
    )
    assert float(rate.input_value()) == 0.125 and float(below.input_value()) == 0.7
    page.screenshot(path=str(ARTIFACTS / "settings-gold.png"), full_page=True)
