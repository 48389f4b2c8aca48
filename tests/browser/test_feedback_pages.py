"""Questions, guideline examples and performance in the browser: an annotator asks about the
item on the labeling page; a manager answers and resolves it on the Questions page and turns it
into a guideline example, which the annotator then finds in the guidelines panel with the item's
text, the answer and the note; a manager adds an edge case from the quality page's suspects; the
Performance page shows the leaderboard with the API's figures, and an annotator their own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from accord.core import annotations as annotation_ops
from accord.core import reviews
from accord.db.engine import Database
from accord.db.models import Annotation, Item, Project, SuspectedError, User
from tests.api.helpers import add_items
from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import Actor, Factory, sentiment_schema

SCHEMA = sentiment_schema()


def call(base: str, actor: Actor, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{base}/api/v1{path}", json=body, headers=actor.headers)
    response.raise_for_status()
    return response.json() if response.content else None


def item_ids(db: Database, project: Project) -> dict[str, int]:
    with db.transaction(write=False) as session:
        rows = session.execute(select(Item.id, Item.data).where(Item.project_id == project.id))
        return {data["text"]: item_id for item_id, data in rows}


def switch_user(page: Any, base: str, actor: Actor) -> None:
    page.context.clear_cookies()
    log_in(page, base, actor)


def test_a_question_becomes_a_guideline_example(
    page: Any, live_server: str, db: Database, factory: Factory, admin: Actor
) -> None:
    manager, ann = factory.user(), factory.user()
    project = factory.project(admin, schema=SCHEMA, members={"manager": manager, "annotator": ann})
    add_items(db, project, admin.user, ["Great, another Monday."])
    item_id = item_ids(db, project)["Great, another Monday."]

    # the annotator asks about the item on the labeling page
    log_in(page, live_server, ann)
    page.goto(f"{live_server}/projects/{project.id}/label")
    page.locator(f"accord-labeler[data-item-id='{item_id}']").wait_for()
    page.get_by_role("button", name="Flag / ask").click()
    dialog = page.locator("dialog.ask-dialog")
    assert dialog.get_by_text(f"about item #{item_id}").is_visible()
    dialog.get_by_label("Title").fill("Sarcasm?")
    dialog.get_by_label("Your question or what is wrong").fill("Positive words, negative meaning.")
    dialog.get_by_role("button", name="Send").click()
    page.locator(".ask-status .notice.ok").wait_for()
    (thread,) = call(live_server, manager, "GET", f"/projects/{project.id}/threads")["threads"]
    assert (thread["title"], thread["item_id"], thread["author"]) == (
        "Sarcasm?",
        item_id,
        ann.user.username,
    )
    assert page.locator("accord-guideline-examples .guideline-example").count() == 0

    # the manager answers, resolves and makes it an example
    switch_user(page, live_server, manager)
    page.goto(f"{live_server}/projects/{project.id}/questions?status=open")
    row = page.locator(f"tr[data-thread='{thread['id']}']")
    assert row.locator(".thread-status").inner_text() == "open"
    row.get_by_role("link", name="Sarcasm?").click()
    page.get_by_label("Answer").fill("Sarcasm counts as negative.")
    page.get_by_role("button", name="Send").click()
    page.locator(".thread-message.staff .message-body").wait_for()
    assert page.locator(".thread-message.staff .message-body").inner_text() == (
        "Sarcasm counts as negative."
    )
    page.get_by_role("button", name="Resolve").click()
    page.get_by_role("button", name="Reopen").wait_for()
    assert page.locator(".thread-meta .thread-status").inner_text() == "resolved"
    form = page.locator(".example-form")
    form.get_by_label("Section").fill("Sarcasm")
    form.get_by_label("sentiment").select_option("negative")
    form.get_by_role("button", name="Make a guideline example").click()
    page.locator(".example-feedback .notice.ok").wait_for()
    (example,) = call(live_server, manager, "GET", f"/projects/{project.id}/guideline-examples")
    assert (example["item_id"], example["result"], example["source"]) == (
        item_id,
        {"sentiment": "negative"},
        "question",
    )
    page.goto(f"{live_server}/projects/{project.id}/questions?status=resolved&q=sarcasm")
    assert page.locator(f"tr[data-thread='{thread['id']}']").count() == 1

    # the annotator finds it in the guidelines panel
    switch_user(page, live_server, ann)
    page.goto(f"{live_server}/projects/{project.id}/label")
    shown = page.locator(f".guideline-example[data-example='{example['id']}']")
    shown.wait_for()
    section = page.locator(".example-section[data-section='Sarcasm']")
    assert section.locator("h4").inner_text() == "Sarcasm"
    assert shown.locator(".example-text").inner_text() == "Great, another Monday."
    assert shown.locator(".example-answer").inner_text() == "Answer: sentiment negative"
    assert shown.locator(".example-note").inner_text() == "Sarcasm counts as negative."
    page.screenshot(path=str(ARTIFACTS / "guideline-examples-panel.png"), full_page=True)
    page.goto(f"{live_server}/projects/{project.id}/questions")
    assert page.locator(f"tr[data-thread='{thread['id']}'] .thread-status").inner_text() == (
        "resolved"
    )


def test_an_edge_case_from_the_quality_page(
    page: Any, live_server: str, db: Database, factory: Factory, admin: Actor
) -> None:
    from accord.db.models import QualityRun

    manager = factory.user()
    project = factory.project(admin, schema=SCHEMA, members={"manager": manager})
    add_items(db, project, admin.user, ["Not bad at all"])
    item_id = item_ids(db, project)["Not bad at all"]
    with db.transaction() as session:
        session.add(
            QualityRun(
                project_id=project.id,
                control="sentiment",
                method="majority_vote",
                n_items=1,
                n_labels=3,
                n_annotators=3,
                n_suspects=1,
                last_annotation_id=0,
                seconds=0.1,
            )
        )
        session.add(
            SuspectedError(
                project_id=project.id,
                item_id=item_id,
                control="sentiment",
                label="negative",
                suggested_label="positive",
                score=0.8,
                sources="disagreement",
                reasons=["the annotators disagree"],
            )
        )
    log_in(page, live_server, manager)
    page.goto(f"{live_server}/projects/{project.id}/quality")
    row = page.locator(f".top-suspects tr[data-item='{item_id}']")
    row.get_by_label(f"kind of example for item {item_id}").select_option("counter_example")
    row.get_by_label(f"label shown for item {item_id}").select_option("negative")
    row.get_by_label(f"guideline section for item {item_id}").fill("Negation")
    row.get_by_role("button", name="Add to guidelines").click()
    row.locator(".suspect-example-status .badge").wait_for()
    (example,) = call(live_server, manager, "GET", f"/projects/{project.id}/guideline-examples")
    assert (example["kind"], example["result"], example["section"], example["source"]) == (
        "counter_example",
        {"sentiment": "negative"},
        "Negation",
        "disagreement",
    )


def test_the_performance_page_shows_the_api_figures(
    page: Any, live_server: str, db: Database, factory: Factory, admin: Actor
) -> None:
    manager, reviewer, ann, bob = factory.user(), factory.user(), factory.user(), factory.user()
    project = factory.project(
        admin,
        schema=SCHEMA,
        overlap=2,
        members={"manager": manager, "reviewer": reviewer, "annotator": ann, "annotator2": bob},
    )
    add_items(db, project, admin.user, [f"text {k}" for k in range(5)])
    ids = item_ids(db, project)
    start = datetime.now(UTC) - timedelta(hours=2)
    with db.transaction() as session:
        p = session.get(Project, project.id)
        assert p is not None
        made = []
        for who, leads in ((ann, [12.0, None, 30.0, 7.5]), (bob, [20.0, 40.0])):
            user = session.get(User, who.user.id)
            assert user is not None
            for k, lead in enumerate(leads):
                a = annotation_ops.submit(
                    session, p, user, ids[f"text {k}"], {"sentiment": "positive"}, lead_time=lead
                )
                a.created_at = start + timedelta(seconds=90 * k)
                made.append(a)
        session.flush()
        judge = session.get(User, reviewer.user.id)
        assert judge is not None
        reviews.review(session, p, judge, made[0], "accepted")
        reviews.review(session, p, judge, made[1], "rejected", reason="read it again")
        reviews.review(session, p, judge, made[4], "accepted")
        assert session.get(Annotation, made[1].id) is not None

    board = call(live_server, manager, "GET", f"/projects/{project.id}/performance")
    log_in(page, live_server, manager)
    page.goto(f"{live_server}/projects/{project.id}/performance")

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{100 * value:.1f}%"

    def one(value: float | None) -> str:
        return "—" if value is None else f"{value:.1f}"

    assert [r["username"] for r in board][:2] == [ann.user.username, bob.user.username]
    for entry in board:
        row = page.locator(f"table.leaderboard tr[data-annotator='{entry['username']}']")
        assert row.locator(".items-done").inner_text() == str(entry["items_done"])
        assert row.locator(".answers").inner_text() == str(entry["answers"])
        assert row.locator(".throughput").inner_text() == one(entry["throughput_per_hour"])
        assert row.locator(".median-lead").inner_text() == one(entry["median_lead_time"])
        assert row.locator(".agreement").inner_text() == pct(entry["agreement"])
        assert row.locator(".rejection").inner_text().startswith(pct(entry["rejection_rate"]))
    mine = next(r for r in board if r["username"] == ann.user.username)
    assert (mine["answers"], mine["rejection_rate"]) == (4, 0.5)
    assert page.locator(".leaderboard tbody tr").count() == len(board)

    # an annotator sees their own figures only, the same as the API's
    switch_user(page, live_server, ann)
    page.goto(f"{live_server}/projects/{project.id}/performance")
    assert page.locator("table.leaderboard").count() == 0
    figures = page.locator(f".my-figures[data-annotator='{ann.user.username}']")
    assert figures.locator(".answers").inner_text() == "4"
    assert figures.locator(".throughput").inner_text() == one(mine["throughput_per_hour"])
    assert figures.locator(".median-lead").inner_text() == one(mine["median_lead_time"])
    assert figures.locator(".rejection").inner_text() == "50.0%"
    day = start.date().isoformat()
    assert page.locator(f"table.trend tr[data-day='{day}'] .day-answers").inner_text() == str(
        next(d["answers"] for d in mine["trend"] if d["day"] == day)
    )
