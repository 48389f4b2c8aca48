"""The settings page: server errors beside their fields, a live-checked schema editor with a
preview, publishing a new version that annotators are told about, and members."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.helpers import add_items
from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.test_labeling_text import CLASSIFY
from tests.conftest import Actor, Factory

BROKEN = """fields:
  - {name: text, type: text}
controls:
  - name: sentiment
    type: choices
    field: text
    labels: [positive, negative, positive]
"""
FIXED = """fields:
  - {name: text, type: text}
controls:
  - name: sentiment
    type: choices
    field: text
    labels: [positive, negative, mixed]
"""


def test_settings_schema_editor_publish_and_members(
    browser: Any, page: Any, live_server: str, db: Any, factory: Factory, admin: Actor
) -> None:
    manager, annotator = factory.user(), factory.user()
    project = factory.project(
        admin, schema=CLASSIFY, members={"manager": manager, "annotator": annotator}
    )
    add_items(db, project, admin.user, ["a sample sentence", "another"])

    annotator_context = browser.new_context()
    annotator_page = annotator_context.new_page()
    log_in(annotator_page, live_server, annotator)
    annotator_page.goto(f"{live_server}/projects/{project.id}/label")  # sees version 1
    annotator_page.locator("accord-labeler .item-text").wait_for()

    log_in(page, live_server, manager)
    page.goto(f"{live_server}/projects/{project.id}/settings")
    page.locator("accord-labeler[preview] accord-choices").wait_for()  # preview of version 1

    page.fill("#p-overlap", "0")
    page.locator("form[data-method=PATCH] button[type=submit]").click()
    error = page.locator("#p-overlap-error")
    error.wait_for()
    assert error.inner_text() == "Input should be greater than or equal to 1"
    assert page.locator("#p-overlap").get_attribute("aria-invalid") == "true"
    page.fill("#p-overlap", "3")
    page.locator("form[data-method=PATCH] button[type=submit]").click()
    page.locator("form[data-method=PATCH] .form-status", has_text="Saved.").wait_for()
    stored = httpx.get(f"{live_server}/api/v1/projects/{project.id}", headers=admin.headers)
    assert stored.json()["overlap"] == 3

    page.fill("#schema-text", BROKEN)
    problem = page.locator("#schema-errors li").first
    problem.wait_for()
    assert problem.inner_text().startswith("controls.sentiment.labels")
    assert "positive" in problem.inner_text()
    page.fill("#schema-text", FIXED)
    page.wait_for_function("document.querySelectorAll('#schema-errors li').length === 0")
    page.locator("accord-labeler[preview] input[value=mixed]").wait_for()
    page.fill("#guidelines-text", "# Rules\n\nMixed means **both** feelings.")
    page.locator("#guidelines-preview strong", has_text="both").wait_for()
    page.fill("#change-note", "a label for mixed feelings")
    page.screenshot(path=str(ARTIFACTS / "settings-page.png"), full_page=True)
    page.get_by_role("button", name="Publish version 2").click()
    page.locator("a", has_text="v2").wait_for()
    schema = httpx.get(f"{live_server}/api/v1/projects/{project.id}/schema", headers=admin.headers)
    assert schema.json()["version"] == 2
    assert schema.json()["guidelines"] == "# Rules\n\nMixed means **both** feelings."

    page.fill("#new-member", "nobody-by-this-name")
    page.locator("form.add-member button").click()
    page.locator("form.add-member .form-status.field-error").wait_for()
    assert "nobody-by-this-name" in page.locator("form.add-member .form-status").inner_text()

    annotator_page.reload()
    note = annotator_page.locator(".guidelines-what-changed")
    note.wait_for()
    assert "a label for mixed feelings" in note.inner_text()
    assert annotator_page.locator("accord-choices input[value=mixed]").count() == 1
    annotator_context.close()
