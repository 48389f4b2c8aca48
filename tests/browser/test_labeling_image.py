"""An annotator labels a real BCCD image in the labeling page: a box by dragging and a polygon by
clicking points; the annotation read back through the API matches within one pixel."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.image_view import click, drag, fitted_view
from tests.conftest import DATASETS, Actor, Factory

IMAGE = DATASETS / "detection" / "bccd" / "BCCD" / "JPEGImages" / "BloodImage_00000.jpg"
SCHEMA = {
    "fields": [{"name": "image", "type": "image"}],
    "controls": [
        {
            "name": "cells",
            "type": "boxes",
            "field": "image",
            "labels": [{"value": "RBC", "hotkey": "r"}, {"value": "WBC", "hotkey": "w"}],
        },
        {"name": "outline", "type": "polygons", "field": "image", "labels": ["WBC"]},
    ],
}


def test_boxes_and_polygons_on_a_real_image(
    page: Any, live_server: str, factory: Factory, admin: Actor, tmp_path: Path
) -> None:
    annotator = factory.user()
    project = factory.project(admin, schema=SCHEMA, members={"annotator": annotator})
    folder = tmp_path / "bccd"
    folder.mkdir()
    shutil.copy(IMAGE, folder / IMAGE.name)
    imported = httpx.post(
        f"{live_server}/api/v1/projects/{project.id}/imports/folder",
        json={"path": str(folder)},
        headers=admin.headers,
    )
    assert imported.status_code == 201, imported.text

    log_in(page, live_server, annotator)
    page.goto(f"{live_server}/projects/{project.id}/label")
    widgets = page.locator("accord-image-regions")
    widgets.first.wait_for()
    assert page.evaluate(
        "Promise.all([...document.querySelectorAll('accord-image-regions')].map(w => w.ready))"
    ) == [True, True]

    boxes = widgets.nth(0)
    boxes.scroll_into_view_if_needed()
    page.evaluate("document.querySelectorAll('accord-image-regions')[0].focus()")
    page.keyboard.press("w")
    view = fitted_view(boxes, 640, 480)
    drag(page, view.screen(100, 120), view.screen(260, 300))

    outline = widgets.nth(1)
    outline.scroll_into_view_if_needed()
    view = fitted_view(outline, 640, 480)
    corners = [(300, 100), (420, 110), (430, 230), (310, 240)]
    for x, y in corners:
        click(page, view.screen(x, y))
    page.keyboard.press("Enter")
    page.screenshot(path=str(ARTIFACTS / "labeling-image.png"), full_page=True)
    page.keyboard.press("Control+Enter")
    page.locator(".done-card").wait_for()

    response = httpx.get(
        f"{live_server}/api/v1/projects/{project.id}/annotations", headers=annotator.headers
    )
    (annotation,) = response.json()
    (box,) = annotation["result"]["cells"]
    assert box["label"] == "WBC"
    for key, expected in {"x": 100, "y": 120, "width": 160, "height": 180}.items():
        assert abs(box[key] - expected) <= 1, (key, box)
    (polygon,) = annotation["result"]["outline"]
    assert polygon["label"] == "WBC"
    assert len(polygon["points"]) == 4
    for (x, y), (ex, ey) in zip(polygon["points"], corners, strict=True):
        assert abs(x - ex) <= 1 and abs(y - ey) <= 1, polygon
