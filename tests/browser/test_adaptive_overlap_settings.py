"""Adaptive overlap in the browser: a manager turns it on in the settings page (its numbers are
off while it is off), the server's refusals show beside their fields, and the overview tells
reviewers and managers how many answers it has saved so far."""

from __future__ import annotations

from typing import Any

import httpx

from accord.db.engine import Database
from tests.api.helpers import add_items
from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import Actor, Factory, sentiment_schema

TWO_LABELS = sentiment_schema()
SPANS_ONLY = {
    "fields": [{"name": "text", "type": "text"}],
    "controls": [{"name": "ents", "type": "spans", "field": "text", "labels": ["PER"]}],
}
SAVE = "form[data-method=PATCH] button[type=submit]"
STATUS = "form[data-method=PATCH] .form-status"


def project_view(base: str, actor: Actor, project_id: int) -> dict[str, Any]:
    response = httpx.get(f"{base}/api/v1/projects/{project_id}", headers=actor.headers)
    response.raise_for_status()
    found: dict[str, Any] = response.json()
    return found


def refusal(base: str, actor: Actor, project_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """The API's answer to a PATCH it must refuse."""
    response = httpx.patch(f"{base}/api/v1/projects/{project_id}", json=body, headers=actor.headers)
    assert response.status_code == 422, response.text
    found: dict[str, Any] = response.json()
    return found


def test_a_manager_turns_adaptive_overlap_on_and_sees_the_servers_errors(
    page: Any, live_server: str, factory: Factory, admin: Actor
) -> None:
    manager = factory.user()
    project = factory.project(admin, schema=TWO_LABELS, overlap=5, members={"manager": manager})
    log_in(page, live_server, manager)
    page.goto(f"{live_server}/projects/{project.id}/settings")
    switch = page.locator("#p-adaptive")
    start, threshold = page.locator("#p-adaptive-start"), page.locator("#p-adaptive-threshold")
    stored = project_view(live_server, admin, project.id)
    assert stored["adaptive_overlap"] is False and stored["labels_saved"] is None
    assert not switch.is_checked()
    assert int(start.input_value()) == stored["adaptive_start"]
    assert float(threshold.input_value()) == stored["adaptive_threshold"]
    assert start.is_disabled() and threshold.is_disabled()

    switch.check()
    assert start.is_enabled() and threshold.is_enabled()
    start.fill("2")
    threshold.fill("0.75")
    assert page.locator("output[for=p-adaptive-threshold]").inner_text() == "= 75%"
    page.locator(SAVE).click()
    page.locator(STATUS, has_text="Saved.").wait_for()
    stored = project_view(live_server, admin, project.id)
    assert (stored["adaptive_overlap"], stored["adaptive_start"], stored["adaptive_threshold"]) == (
        True,
        2,
        0.75,
    )
    assert stored["overlap"] == 5 and stored["labels_saved"] == 0

    for name, field, bad in (
        ("adaptive_threshold", "#p-adaptive-threshold", "0.4"),
        ("adaptive_threshold", "#p-adaptive-threshold", "1.5"),
        ("adaptive_start", "#p-adaptive-start", "0"),
    ):
        problem = refusal(live_server, manager, project.id, {name: float(bad)})["errors"][0]
        assert problem["field"] == name
        page.fill(field, bad)
        page.locator(SAVE).click()
        error = page.locator(f"{field}-error")
        error.wait_for()
        assert error.inner_text() == problem["message"]
        assert page.locator(field).get_attribute("aria-invalid") == "true"
        assert f"{field[1:]}-error" in (page.locator(field).get_attribute("aria-describedby") or "")
        assert page.locator(STATUS).inner_text() == "Please correct the marked fields."
        page.reload()
    stored = project_view(live_server, admin, project.id)
    assert (stored["adaptive_start"], stored["adaptive_threshold"]) == (2, 0.75)
    assert int(start.input_value()) == 2 and float(threshold.input_value()) == 0.75
    page.screenshot(path=str(ARTIFACTS / "settings-adaptive-overlap.png"), full_page=True)

    # switched off, its numbers are disabled and not sent: a bad one left there does not matter
    threshold.fill("0.1")
    switch.uncheck()
    assert start.is_disabled() and threshold.is_disabled()
    page.locator(SAVE).click()
    page.locator(STATUS, has_text="Saved.").wait_for()
    stored = project_view(live_server, admin, project.id)
    assert (stored["adaptive_overlap"], stored["adaptive_start"], stored["adaptive_threshold"]) == (
        False,
        2,
        0.75,
    )
    assert stored["labels_saved"] is None
    assert page.locator(".inline-error").count() == 0


def test_the_checkbox_says_when_the_schema_has_no_single_choice_control(
    page: Any, live_server: str, factory: Factory, admin: Actor
) -> None:
    manager = factory.user()
    project = factory.project(admin, schema=SPANS_ONLY, members={"manager": manager})
    refused = refusal(live_server, manager, project.id, {"adaptive_overlap": True})
    assert refused["errors"][0] == {
        "field": "adaptive_overlap",
        "rule": "needs_single_choice",
        "msg": refused["detail"],
    }
    log_in(page, live_server, manager)
    page.goto(f"{live_server}/projects/{project.id}/settings")
    page.locator("#p-adaptive").check()
    page.locator(SAVE).click()
    error = page.locator("#p-adaptive-error")
    error.wait_for()
    assert error.inner_text() == refused["detail"]
    assert page.locator("#p-adaptive").get_attribute("aria-invalid") == "true"
    # beside the checkbox: right after its label, not inside it
    assert page.locator("label[for=p-adaptive] + #p-adaptive-error").count() == 1
    assert page.locator("#p-adaptive-error").evaluate("n => n.closest('label') === null")
    page.locator(".adaptive-settings").screenshot(
        path=str(ARTIFACTS / "settings-adaptive-needs-single-choice.png")
    )
    assert project_view(live_server, admin, project.id)["adaptive_overlap"] is False


def test_the_overview_shows_the_answers_adaptive_overlap_saved(
    browser: Any,
    page: Any,
    live_server: str,
    db: Database,
    factory: Factory,
    admin: Actor,
) -> None:
    people = [factory.user() for _ in range(3)]
    manager, reviewer = factory.user(), factory.user()
    members = {f"annotator{k}": p for k, p in enumerate(people)}
    project = factory.project(
        admin,
        schema=TWO_LABELS,
        overlap=3,
        adaptive_overlap=True,
        adaptive_start=2,
        adaptive_threshold=0.8,
        members=members | {"manager": manager, "reviewer": reviewer},
    )
    add_items(db, project, admin.user, ["agreed", "split", "agreed too"])
    answers = {
        "agreed": ["positive"] * 3,
        "split": ["positive", "negative", "positive"],
        "agreed too": ["negative"] * 3,
    }
    served = dict.fromkeys(answers, 0)
    base = f"{live_server}/api/v1/projects/{project.id}"
    for person in people:
        while True:
            lease = httpx.post(f"{base}/next", headers=person.headers)
            if lease.status_code == 204:
                break
            item = lease.json()["item"]
            text = item["data"]["text"]
            httpx.post(
                f"{base}/items/{item['id']}/annotations",
                json={"result": {"sentiment": answers[text][served[text]]}},
                headers=person.headers,
            ).raise_for_status()
            served[text] += 1
    # 2 of 2 agreeing settle an item; 1 of 2 (0.5) asks for a third, which is N
    assert served == {"agreed": 2, "split": 3, "agreed too": 2}
    saved = project_view(live_server, admin, project.id)["labels_saved"]
    assert saved == 2

    log_in(page, live_server, manager)
    page.goto(f"{live_server}/projects/{project.id}")
    line = page.locator(".adaptive-overlap")
    assert page.locator(".adaptive-overlap .labels-saved").inner_text() == f"{saved:,}"
    assert page.locator(".adaptive-overlap .overlap-range").inner_text() == "2 to 3"
    assert " ".join(line.inner_text().split()) == (
        f"Adaptive overlap: 2 to 3 answers per item; {saved} answers saved so far "
        "against a fixed overlap of 3."
    )
    page.screenshot(path=str(ARTIFACTS / "overview-adaptive-overlap.png"), full_page=True)

    for actor, shown in ((reviewer, 1), (people[0], 0)):
        context = browser.new_context()
        other = context.new_page()
        log_in(other, live_server, actor)
        other.goto(f"{live_server}/projects/{project.id}")
        other.locator("h1").wait_for()
        assert other.locator(".adaptive-overlap").count() == shown
        if shown:
            assert other.locator(".adaptive-overlap .labels-saved").inner_text() == f"{saved:,}"
        context.close()
