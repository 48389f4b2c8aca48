"""An image in the guidelines editor: a manager picks a file, its markdown goes in at the cursor
and the preview shows the image (loaded from the server with the manager's session); a file
that is not an image is refused beside the control; after publishing, the annotator's guidelines
panel on the labeling page shows the image too."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.helpers import add_items
from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import DATASETS, Actor, Factory, sentiment_schema

BCCD = DATASETS / "detection" / "bccd" / "BCCD"
JPEG = BCCD / "JPEGImages" / "BloodImage_00000.jpg"  # 640 x 480
NOT_AN_IMAGE = BCCD / "Annotations" / "BloodImage_00000.xml"
LOADED = "img => img.complete && img.naturalWidth"


def test_an_uploaded_image_goes_in_at_the_cursor_and_shows_in_the_preview(
    browser: Any, page: Any, live_server: str, db: Any, factory: Factory, admin: Actor
) -> None:
    manager, annotator = factory.user(), factory.user()
    project = factory.project(
        admin, schema=sentiment_schema(), members={"manager": manager, "annotator": annotator}
    )
    add_items(db, project, admin.user, ["a sentence to label"])
    log_in(page, live_server, manager)
    page.goto(f"{live_server}/projects/{project.id}/settings")
    editor = page.locator("#guidelines-text")
    editor.fill("# Cells\n\nBefore the picture.\nAfter the picture.")
    cursor = len("# Cells\n\nBefore the picture.\n")
    editor.evaluate(f"(area) => area.setSelectionRange({cursor}, {cursor})")

    page.set_input_files("#guidelines-image", str(JPEG))
    status = page.locator("#guidelines-image-status")
    status.filter(has_text="Inserted").wait_for()
    assert status.inner_text() == f"Inserted {JPEG.name}."
    value = editor.input_value()
    inserted = value[cursor : value.index("After")]
    assert inserted.startswith("![BloodImage_00000](/api/v1/projects/")
    assert value == f"# Cells\n\nBefore the picture.\n{inserted}After the picture."
    url = inserted[inserted.index("(") + 1 : inserted.index(")")]
    # the preview (re-rendered by the server as if the text had been typed) loads the image
    image = page.locator(f"#guidelines-preview img[src='{url}']")
    image.wait_for()
    page.wait_for_function(
        f"() => (document.querySelector(\"#guidelines-preview img[src='{url}']\") || {{}})"
        ".naturalWidth === 640"
    )
    assert image.get_attribute("alt") == "BloodImage_00000"
    page.screenshot(path=str(ARTIFACTS / "guidelines-image-preview.png"), full_page=True)

    # not an image: refused beside the control, the text unchanged
    page.set_input_files("#guidelines-image", str(NOT_AN_IMAGE))
    status.filter(has_text="Not uploaded").wait_for()
    assert "not a PNG, JPEG, GIF or WebP image" in status.inner_text()
    assert page.locator("#guidelines-image").get_attribute("aria-invalid") == "true"
    assert editor.input_value() == value

    page.fill("#change-note", "a picture of the cells")
    page.get_by_role("button", name="Publish version 2").click()
    page.locator("a", has_text="v2").wait_for()
    schema = httpx.get(f"{live_server}/api/v1/projects/{project.id}/schema", headers=admin.headers)
    assert schema.json()["guidelines"] == value

    # the annotator's guidelines panel shows the published image
    page.context.clear_cookies()
    log_in(page, live_server, annotator)
    page.goto(f"{live_server}/projects/{project.id}/label")
    panel_image = page.locator(f"#guidelines .markdown img[src='{url}']")
    panel_image.wait_for(state="attached")
    page.wait_for_function(
        f"() => (document.querySelector(\"#guidelines img[src='{url}']\") || {{}}).naturalWidth"
        " === 640"
    )
    assert panel_image.evaluate(LOADED) == 640
