"""Models in the browser, on real SST-2 sentences: a manager adds a text classifier on the Models
page (a bad setting is refused next to its field), trains it and sees its version; an annotator
finds the model's pre-label already selected on the Label page and submits it; the acceptance
table then counts that answer as accepted."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from accord.db.engine import Database
from accord.db.models import Prediction
from tests.api.helpers import add_items
from tests.api.test_model_backends import item_ids, sst2_sentences, submit_directly
from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import Actor, Factory, sentiment_schema


def api(base: str, actor: Actor, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{base}/api/v1{path}", json=body, headers=actor.headers)
    response.raise_for_status()
    return response.json() if response.content else None


def test_a_manager_trains_a_model_and_its_pre_label_is_pre_selected(
    page: Any, browser: Any, live_server: str, db: Database, factory: Factory, admin: Actor
) -> None:
    worker, annotator = factory.user(), factory.user()
    project = factory.project(
        admin,
        schema=sentiment_schema("positive", "negative"),
        members={"annotator": annotator, "annotator2": worker},
    )
    sentences = sst2_sentences(60, seed=11)
    add_items(db, project, admin.user, sentences["text"].tolist())
    ids = item_ids(db, project)
    gold = {ids[t]: label for t, label in zip(sentences["text"], sentences["label"], strict=True)}
    submit_directly(db, project, worker, {i: gold[i] for i in sorted(gold)[:40]})

    log_in(page, live_server, admin)
    page.goto(f"{live_server}/projects/{project.id}/models")
    assert page.locator(".no-models").is_visible()
    page.fill("#m-name", "sst2-clf")
    page.select_option("#m-kind", "text_classifier")
    page.select_option("#m-control", "sentiment")
    page.fill("#m-config", '{"C": -1}')
    page.click("form.model-form button[type=submit]")
    error = page.locator("#m-config-error")
    error.wait_for()
    assert "config.C" in error.inner_text()
    assert page.locator("#m-config").get_attribute("aria-invalid") == "true"

    page.fill("#m-config", '{"C": 10}')
    page.fill("#m-retrain", "25")
    page.click("form.model-form button[type=submit]")
    row = page.locator("tr[data-model='sst2-clf']")
    row.wait_for()
    assert "not trained" in row.locator(".model-version").inner_text()
    cells = [c.strip() for c in row.locator("th, td").all_inner_texts()]
    assert cells[1:3] == ["text_classifier", "sentiment"] and cells[7] == "25"

    row.get_by_role("button", name="Train sst2-clf now").click()
    page.locator("tr[data-model='sst2-clf'] .model-version code").wait_for(timeout=120_000)
    (stored,) = api(live_server, admin, "GET", f"/projects/{project.id}/models")
    assert stored["version"] and stored["labels_at_fit"] == 40
    row = page.locator("tr[data-model='sst2-clf']")
    assert row.locator(".model-version code").inner_text() == stored["version"]
    assert row.locator(".model-labels-at-fit").inner_text() == "40"
    assert page.locator(".no-acceptance").is_visible()

    # The annotator's Label page opens with the model's answer already chosen.
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    labeler = context.new_page()
    try:
        log_in(labeler, live_server, annotator)
        labeler.goto(f"{live_server}/projects/{project.id}/label")
        labeler.locator("accord-labeler .item-text").wait_for()
        item_id = int(labeler.locator("accord-labeler").get_attribute("data-item-id"))
        with db.transaction(write=False) as session:
            prediction = session.scalars(
                select(Prediction)
                .where(Prediction.item_id == item_id, Prediction.backend_id == stored["id"])
                .order_by(Prediction.id.desc())
            ).first()
        assert prediction is not None
        predicted = prediction.result["sentiment"]
        other = "negative" if predicted == "positive" else "positive"
        assert labeler.locator(f"accord-choices input[value='{predicted}']").is_checked()
        assert not labeler.locator(f"accord-choices input[value='{other}']").is_checked()
        header = labeler.locator(".item-header").inner_text()
        assert f"pre-labels from sst2-clf {stored['version']}" in header
        labeler.screenshot(path=str(ARTIFACTS / "models-pre-selected-label.png"))
        labeler.keyboard.press("Control+Enter")
        labeler.wait_for_function(
            "id => document.querySelector('accord-labeler').dataset.itemId !== id",
            arg=str(item_id),
        )
    finally:
        context.close()
    (answer,) = api(live_server, annotator, "GET", f"/projects/{project.id}/annotations")
    assert answer["result"] == {"sentiment": predicted}

    page.reload()
    accepted = page.locator(".acceptance-table tbody tr")
    assert accepted.count() == 1
    cells = [c.strip() for c in accepted.first.locator("th, td").all_inner_texts()]
    assert cells == ["sst2-clf", stored["version"], "1", "1", "100.0%"]
