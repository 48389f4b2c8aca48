"""Review in the browser (a rejection goes back to the annotator), and the manager's import,
data browser and export pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.api.helpers import add_items
from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.test_labeling_text import CLASSIFY
from tests.conftest import Actor, Factory


def api(base: str, actor: Actor, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{base}/api/v1{path}", json=body, headers=actor.headers)
    response.raise_for_status()
    return response.json() if response.content else None


def test_a_rejected_annotation_returns_to_its_annotator_with_the_reason(
    browser: Any, page: Any, live_server: str, db: Any, factory: Factory, admin: Actor
) -> None:
    annotator, reviewer = factory.user(), factory.user()
    project = factory.project(
        admin, schema=CLASSIFY, members={"annotator": annotator, "reviewer": reviewer}
    )
    add_items(db, project, admin.user, ["an awful, tedious film", "a delight"])
    lease = api(live_server, annotator, "POST", f"/projects/{project.id}/next")
    first = lease["item"]["id"]
    api(
        live_server,
        annotator,
        "POST",
        f"/projects/{project.id}/items/{first}/annotations",
        {"result": {"sentiment": "positive"}},
    )

    log_in(page, live_server, reviewer)
    page.goto(f"{live_server}/projects/{project.id}/review")
    card = page.locator(".review-card").first
    card.wait_for()
    assert page.locator("accord-reviewer").get_attribute("data-item-id") == str(first)
    assert "sentiment: positive" in card.inner_text()
    card.locator(".reject-reason").fill("awful and tedious are not positive")
    page.screenshot(path=str(ARTIFACTS / "review-page.png"), full_page=True)
    card.get_by_role("button", name="Reject").click()
    page.locator(".review-status.ok").wait_for()

    context = browser.new_context()
    annotator_page = context.new_page()
    try:
        log_in(annotator_page, live_server, annotator)
        annotator_page.goto(f"{live_server}/projects/{project.id}/label")
        annotator_page.locator(".labeler-notice .notice.error").wait_for()
        labeler = annotator_page.locator("accord-labeler")
        assert labeler.get_attribute("data-item-id") == str(first)
        assert (
            "awful and tedious are not positive"
            in annotator_page.locator(".labeler-notice").inner_text()
        )
        assert annotator_page.locator("accord-choices input[value=positive]").is_checked()
        annotator_page.keyboard.press("2")
        annotator_page.keyboard.press("Control+Enter")
        annotator_page.wait_for_function(
            f"document.querySelector('accord-labeler').dataset.itemId !== '{first}'"
        )
    finally:
        context.close()
    latest = api(live_server, annotator, "GET", f"/projects/{project.id}/annotations")
    (mine,) = [a for a in latest if a["item_id"] == first]
    assert (mine["result"], mine["version"]) == ({"sentiment": "negative"}, 2)


def test_import_page_reports_the_bad_row_then_imports(
    page: Any, live_server: str, factory: Factory, admin: Actor, tmp_path: Path
) -> None:
    manager = factory.user()
    project = factory.project(admin, schema=CLASSIFY, members={"manager": manager})
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "one"}\n{"text": "two"}\n{"text": oops}\n')
    good = tmp_path / "good.jsonl"
    good.write_text("".join(f'{{"text": "review number {i}"}}\n' for i in range(120)))

    log_in(page, live_server, manager)
    page.goto(f"{live_server}/projects/{project.id}/import")
    page.set_input_files("#import-file", str(bad))
    page.get_by_role("button", name="Import").click()
    status = page.locator(".import-status.error")
    status.wait_for()
    assert "row 3" in status.inner_text() and "Nothing was imported" in status.inner_text()
    assert page.locator("#import-file").get_attribute("aria-invalid") == "true"

    page.set_input_files("#import-file", str(good))
    page.get_by_role("button", name="Import").click()
    page.locator(".import-status.ok").wait_for()
    assert "Imported 120 items" in page.locator(".import-status").inner_text()
    page.wait_for_load_state("load")
    page.locator("table.grid").wait_for()
    page.screenshot(path=str(ARTIFACTS / "import-page.png"), full_page=True)

    page.goto(f"{live_server}/projects/{project.id}/items")
    rows = page.locator("table.grid tbody tr")
    assert rows.count() == 50
    assert "review number 0" in rows.first.inner_text()
    page.get_by_role("link", name="Next →").click()
    assert "review number 50" in page.locator("table.grid tbody tr").first.inner_text()
    page.fill("#f-q", "number 42")
    page.get_by_role("button", name="Filter").click()
    texts = page.locator("table.grid tbody td.cell-text").all_inner_texts()
    assert texts == ["review number 42"]
    page.goto(f"{live_server}/projects/{project.id}/items?batch=first")
    assert page.locator("#e-batch").inner_text() == "an import batch is a whole number"
    assert page.locator("#f-batch").get_attribute("aria-invalid") == "true"
    page.screenshot(path=str(ARTIFACTS / "data-browser.png"), full_page=True)
    page.fill("#f-q", "")
    page.select_option("#f-status", "done")
    page.get_by_role("button", name="Filter").click()
    assert page.locator(".empty").inner_text() == "No item matches these filters."

    page.goto(f"{live_server}/projects/{project.id}/export")
    page.select_option("#x-format", "csv")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    lines = Path(download.value.path()).read_text().splitlines()
    assert lines[0].startswith("item_id,data.text")
    assert len(lines) == 121
