"""The image labeling widget (<accord-image-regions>) driven with real mouse and keyboard input
in headless Chromium, on a real BCCD blood-cell image (640x480).

Expected coordinates are computed here from the stage's position on the page and the documented
view rules ("fit" centres the image at the largest scale that fits; the wheel zooms about the
pointer by exp(-deltaY * 0.002); panning moves the image with the pointer), never read back from
the widget's own mapping, so a wrong conversion between screen and image pixels fails the test.

The page is a static harness (no application server), so this module brings its own server and
page fixtures; the browser is the shared one.
"""

from __future__ import annotations

import http.server
import math
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from tests.browser.conftest import ARTIFACTS, CHROMIUM
from tests.browser.image_view import View, click, drag, fitted_view

REPO = Path(__file__).resolve().parents[2]
STATIC = REPO / "src" / "accord" / "web" / "static"
HARNESS = Path(__file__).resolve().parent / "harness"
BCCD = REPO.parent / "shared" / "datasets" / "detection" / "bccd" / "BCCD"
IMAGE = "BloodImage_00000"
WIDTH, HEIGHT = 640, 480
WHEEL_ZOOM_RATE = 0.002

if not (BCCD / "JPEGImages" / f"{IMAGE}.jpg").exists() or not Path(CHROMIUM).exists():
    pytest.skip("needs the BCCD images and Debian's Chromium", allow_module_level=True)

LABELS = [
    {"value": "RBC", "hotkey": "r", "color": "#e53935"},
    {"value": "WBC", "hotkey": "w", "color": "#1e88e5"},
    "Platelets",
]


def control(kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "cells",
        "type": kind,
        "field": "image",
        "required": False,
        "labels": LABELS,
        **extra,
    }


# ---- server and browser ----


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the static UI under /static/, the harness under /harness/, BCCD under /bccd/ and
    generated images under /generated/."""

    roots: dict[str, Path] = {}

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0].split("#", 1)[0]
        for prefix, root in self.roots.items():
            if path.startswith(prefix) and ".." not in path:
                return str(root / path[len(prefix) :])
        return str(HARNESS / "missing")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def static_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    generated = tmp_path_factory.mktemp("generated")
    big = Image.new("RGB", (8000, 6000), (235, 200, 205))
    draw = ImageDraw.Draw(big)
    for i in range(0, 8000, 400):
        draw.ellipse((i, (i * 3) % 5600, i + 300, (i * 3) % 5600 + 300), fill=(180, 40, 60))
    big.save(generated / "large.jpg", quality=70)
    roots = {
        "/static/": STATIC,
        "/harness/": HARNESS,
        "/bccd/": BCCD / "JPEGImages",
        "/generated/": generated,
    }
    handler = type("Handler", (_Handler,), {"roots": roots})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser: Any, static_url: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page on the harness; saves a screenshot afterwards and fails on script errors."""
    context = browser.new_context(viewport={"width": 1000, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{static_url}/harness/image.html")
    page.wait_for_function("window.harnessReady === true")
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    context.close()
    assert not errors, f"script errors in the page: {errors}"


# ---- helpers ----


def mount(page: Any, ctrl: dict[str, Any], **options: Any) -> None:
    src = options.pop("src", f"/bccd/{IMAGE}.jpg")
    assert page.evaluate("options => mount(options)", {"control": ctrl, "src": src, **options})


def value(page: Any) -> Any:
    return page.evaluate("document.querySelector('accord-image-regions').value")


def widget_call(page: Any, script: str) -> Any:
    return page.evaluate(f"(w => {script})(document.querySelector('accord-image-regions'))")


def assert_close(actual: Any, expected: Any, tolerance: float = 1.0, path: str = "value") -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), (
            f"{path}: {actual} != {expected}"
        )
        for key in expected:
            assert_close(actual[key], expected[key], tolerance, f"{path}.{key}")
    elif isinstance(expected, list | tuple):
        assert isinstance(actual, list) and len(actual) == len(expected), (
            f"{path}: {actual} != {expected}"
        )
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_close(a, e, tolerance, f"{path}[{i}]")
    elif isinstance(expected, float):
        assert abs(actual - expected) <= tolerance, (
            f"{path}: {actual} is not within {tolerance} of {expected}"
        )
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def box(label: str, x: float, y: float, w: float, h: float, **extra: Any) -> dict[str, Any]:
    return {
        "label": label,
        "x": float(x),
        "y": float(y),
        "width": float(w),
        "height": float(h),
        **extra,
    }


def without_ids(regions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "id"} for r in regions]


def voc_boxes(name: str) -> list[dict[str, Any]]:
    root = ET.parse(BCCD / "Annotations" / f"{name}.xml").getroot()
    boxes = []
    for i, obj in enumerate(root.iter("object")):
        bb = obj.find("bndbox")
        assert bb is not None
        x0, y0, x1, y1 = (float(bb.findtext(k) or 0) for k in ("xmin", "ymin", "xmax", "ymax"))
        x1, y1 = min(x1, WIDTH), min(y1, HEIGHT)
        boxes.append(
            {
                "id": f"voc{i}",
                "label": obj.findtext("name"),
                "x": x0,
                "y": y0,
                "width": x1 - x0,
                "height": y1 - y0,
            }
        )
    return boxes


def only_inside(
    target: dict[str, Any], regions: list[dict[str, Any]], margin: float = 5
) -> tuple[float, float]:
    """A point inside `target` and clear of every other box."""

    def inside(r: dict[str, Any], x: float, y: float, pad: float) -> bool:
        return bool(
            r["x"] - pad <= x <= r["x"] + r["width"] + pad
            and r["y"] - pad <= y <= r["y"] + r["height"] + pad
        )

    for y in range(int(target["y"]) + 10, int(target["y"] + target["height"]) - 10, 5):
        for x in range(int(target["x"]) + 10, int(target["x"] + target["width"]) - 10, 5):
            if not any(inside(r, x, y, margin) for r in regions if r is not target):
                return float(x), float(y)
    raise AssertionError("no free point inside the target box")


def decode_rle(rle: dict[str, Any]) -> list[list[int]]:
    height, width = rle["size"]
    flat: list[int] = []
    for i, n in enumerate(rle["counts"]):
        flat.extend([i % 2] * n)
    return [flat[r * width : (r + 1) * width] for r in range(height)]


def segment_distance(px: float, py: float, a: tuple[float, float], b: tuple[float, float]) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    t = max(0.0, min(1.0, ((px - a[0]) * dx + (py - a[1]) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (a[0] + t * dx), py - (a[1] + t * dy))


# ---- boxes ----


def test_dragged_box_matches_the_drag_in_image_pixels_also_zoomed_and_panned(page: Any) -> None:
    mount(page, control("boxes"))
    view = fitted_view(page.locator("accord-image-regions"), WIDTH, HEIGHT)
    drag(page, view.screen(100, 120), view.screen(260, 300))
    assert_close(without_ids(value(page)), [box("RBC", 100, 120, 160, 180)])
    assert page.evaluate("changes.length") == 1

    # Two wheel notches in, about a point over the image: that image point must stay put.
    anchor = view.screen(400, 200)
    page.mouse.move(*anchor)
    page.mouse.wheel(0, -100)
    page.mouse.wheel(0, -100)
    expected_scale = view.scale * math.exp(200 * WHEEL_ZOOM_RATE)
    page.wait_for_function(
        "s => Math.abs(document.querySelector('accord-image-regions').viewTransform.scale - s)"
        " < 1e-6",
        arg=expected_scale,
    )
    zoomed = View(
        expected_scale, anchor[0] - 400 * expected_scale, anchor[1] - 200 * expected_scale
    )

    # Pan with the middle button, then with Space held and the left button.
    drag(page, (500, 500), (440, 470), button="middle")
    page.keyboard.down(" ")
    drag(page, (500, 500), (530, 420))
    page.keyboard.up(" ")
    panned = View(zoomed.scale, zoomed.ox - 60 + 30, zoomed.oy - 30 - 80)
    assert len(value(page)) == 1, "panning must not draw"

    start, end = (420.0, 380.0), (520.0, 450.0)
    drag(page, start, end)
    (x0, y0), (x1, y1) = panned.image(*start), panned.image(*end)
    assert_close(without_ids(value(page))[1], box("RBC", x0, y0, x1 - x0, y1 - y0))


def test_box_is_moved_resized_nudged_and_clamped_to_the_image(page: Any) -> None:
    mount(page, control("boxes"), value=[{"id": "b7", **box("WBC", 100, 100, 100, 80)}])
    view = fitted_view(page.locator("accord-image-regions"), WIDTH, HEIGHT)
    click(page, view.screen(150, 140))  # select
    drag(page, view.screen(150, 140), view.screen(200, 170))  # move by (50, 30)
    assert_close(value(page), [{"id": "b7", **box("WBC", 150, 130, 100, 80)}])

    drag(page, view.screen(250, 210), view.screen(300, 260))  # bottom-right handle
    assert_close(value(page), [{"id": "b7", **box("WBC", 150, 130, 150, 130)}])
    drag(page, view.screen(225, 130), view.screen(225, 100))  # top edge handle
    assert_close(value(page), [{"id": "b7", **box("WBC", 150, 100, 150, 160)}])

    page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowDown")
    assert_close(value(page), [{"id": "b7", **box("WBC", 151, 110, 150, 160)}], tolerance=0.01)

    drag(page, view.screen(200, 200), view.screen(-30, 200))  # dragged past the left edge
    assert_close(value(page), [{"id": "b7", **box("WBC", 0, 110, 150, 160)}], tolerance=0.01)

    # Escape during a drag puts the box back and records nothing.
    events = page.evaluate("changes.length")
    page.mouse.move(*view.screen(50, 150))
    page.mouse.down()
    page.mouse.move(*view.screen(250, 250), steps=4)
    page.keyboard.press("Escape")
    page.mouse.up()
    assert_close(value(page), [{"id": "b7", **box("WBC", 0, 110, 150, 160)}], tolerance=0.01)
    assert page.evaluate("changes.length") == events


def test_rotated_box_turns_about_its_centre_with_the_rotation_handle(page: Any) -> None:
    mount(page, control("rotated_boxes"))
    view = fitted_view(page.locator("accord-image-regions"), WIDTH, HEIGHT)
    drag(page, view.screen(200, 150), view.screen(360, 250))
    assert_close(without_ids(value(page)), [box("RBC", 200, 150, 160, 100, rotation=0.0)])

    handle = view.screen(280, 150)
    drag(page, (handle[0], handle[1] - 28), view.screen(400, 200))  # to the right of the centre
    (region,) = value(page)
    assert_close(region["rotation"], 90.0, tolerance=0.5)
    assert_close([region["width"], region["height"]], [160.0, 100.0], tolerance=0.01)
    t = math.radians(region["rotation"])
    centre = (
        region["x"] + 80 * math.cos(t) - 50 * math.sin(t),
        region["y"] + 80 * math.sin(t) + 50 * math.cos(t),
    )
    assert_close(list(centre), [280.0, 200.0], tolerance=0.5)


def test_delete_removes_only_the_selected_region(page: Any) -> None:
    mount(
        page,
        control("boxes"),
        value=[
            {"id": "a", **box("RBC", 50, 50, 100, 100)},
            {"id": "b", **box("WBC", 300, 200, 120, 90)},
        ],
    )
    view = fitted_view(page.locator("accord-image-regions"), WIDTH, HEIGHT)
    page.keyboard.press("Delete")
    assert len(value(page)) == 2, "Delete with nothing selected removes nothing"
    click(page, view.screen(350, 250))
    page.keyboard.press("Delete")
    assert [r["id"] for r in value(page)] == ["a"]
    click(page, view.screen(100, 100))
    page.keyboard.press("Escape")
    page.keyboard.press("Backspace")
    assert [r["id"] for r in value(page)] == ["a"], "Escape clears the selection"


def test_label_hotkeys_switch_the_active_label(page: Any) -> None:
    mount(page, control("boxes"))
    view = fitted_view(page.locator("accord-image-regions"), WIDTH, HEIGHT)
    pressed = (
        "[...document.querySelectorAll('accord-image-regions .label-button')]"
        ".map(b => b.getAttribute('aria-pressed'))"
    )
    assert page.evaluate(pressed) == ["true", "false", "false"]
    page.keyboard.press("w")
    assert page.evaluate(pressed) == ["false", "true", "false"]
    drag(page, view.screen(10, 10), view.screen(60, 60))
    page.keyboard.press("3")  # a label without its own hotkey answers to its position
    drag(page, view.screen(100, 10), view.screen(150, 60))
    page.keyboard.press("r")
    drag(page, view.screen(200, 10), view.screen(250, 60))
    assert [r["label"] for r in value(page)] == ["WBC", "Platelets", "RBC"]
    buttons = page.locator("accord-image-regions .label-picker button")
    assert buttons.count() == 3 and buttons.nth(1).inner_text().startswith("WBC")


# ---- undo and redo ----


def test_undo_and_redo_restore_exact_previous_values(page: Any) -> None:
    mount(page, control("boxes"))
    view = fitted_view(page.locator("accord-image-regions"), WIDTH, HEIGHT)
    states = [value(page)]
    drag(page, view.screen(50, 50), view.screen(150, 130))
    states.append(value(page))
    drag(page, view.screen(300, 200), view.screen(420, 330))
    states.append(value(page))
    drag(page, view.screen(360, 260), view.screen(380, 300))  # moves the selected second box
    states.append(value(page))
    assert states[3][1] != states[2][1] and len(states[3]) == 2

    for expected in (states[2], states[1], states[0]):
        page.keyboard.press("Control+z")
        assert value(page) == expected
    for expected in (states[1], states[2]):
        page.keyboard.press("Control+Shift+Z")
        assert value(page) == expected
    assert widget_call(page, "w.redo()") is True
    assert value(page) == states[3]
    assert widget_call(page, "w.redo()") is False
    assert widget_call(page, "w.undo()") is True
    assert value(page) == states[2]
    assert page.evaluate("changes.at(-1)") == {"control": "cells", "value": states[2]}


# ---- polygons ----


def test_polygon_from_four_clicks_and_enter(page: Any) -> None:
    mount(page, control("polygons"))
    view = fitted_view(page.locator("accord-image-regions"), WIDTH, HEIGHT)
    corners = [(100.0, 100.0), (300.0, 120.0), (320.0, 300.0), (90.0, 280.0)]
    for corner in corners:
        click(page, view.screen(*corner))
    assert value(page) == [], "an open polygon is not part of the value"
    page.keyboard.press("Enter")
    (polygon,) = value(page)
    assert polygon["label"] == "RBC"
    assert_close(polygon["points"], [list(c) for c in corners])

    # A second polygon closed by clicking its first point, after Escape cancelled a first try.
    click(page, view.screen(400, 50))
    click(page, view.screen(450, 60))
    page.keyboard.press("Escape")
    triangle = [(400.0, 300.0), (500.0, 320.0), (450.0, 420.0)]
    for corner in [*triangle, triangle[0]]:
        click(page, view.screen(*corner))
    assert len(value(page)) == 2
    assert_close(value(page)[1]["points"], [list(c) for c in triangle])


def test_polygon_vertices_are_dragged_inserted_and_removed(page: Any) -> None:
    square = [[100, 100], [300, 100], [300, 300], [100, 300]]
    mount(page, control("polygons"), value=[{"id": "p1", "label": "WBC", "points": square}])
    view = fitted_view(page.locator("accord-image-regions"), WIDTH, HEIGHT)
    click(page, view.screen(200, 200))  # select
    drag(page, view.screen(300, 100), view.screen(340, 80))
    assert_close(
        value(page)[0]["points"], [[100.0, 100.0], [340.0, 80.0], [300.0, 300.0], [100.0, 300.0]]
    )

    page.mouse.dblclick(*view.screen(200, 300))  # bottom edge
    assert_close(
        value(page)[0]["points"],
        [[100.0, 100.0], [340.0, 80.0], [300.0, 300.0], [200.0, 300.0], [100.0, 300.0]],
    )

    page.keyboard.down("Alt")
    click(page, view.screen(340, 80))
    page.keyboard.up("Alt")
    page.mouse.click(*view.screen(100, 300), button="right")
    assert_close(value(page)[0]["points"], [[100.0, 100.0], [300.0, 300.0], [200.0, 300.0]])
    assert value(page)[0]["id"] == "p1"


# ---- keypoints ----


def test_keypoints_are_placed_by_name_and_dragged(page: Any) -> None:
    names = ["nucleus", "edge_top", "edge_bottom"]
    mount(
        page,
        control(
            "keypoints",
            points=names,
            skeleton=[["nucleus", "edge_top"], ["nucleus", "edge_bottom"]],
        ),
    )
    view = fitted_view(page.locator("accord-image-regions"), WIDTH, HEIGHT)
    next_point = page.locator("accord-image-regions .image-next-point")
    assert next_point.inner_text() == "Next point: nucleus"
    spots = [(200.0, 200.0), (200.0, 150.0), (200.0, 260.0)]
    for name, spot in zip(names, spots, strict=True):
        assert next_point.inner_text() == f"Next point: {name}"
        click(page, view.screen(*spot))
    assert next_point.inner_text() == "Next point: nucleus", "a complete instance starts a new one"
    (instance,) = value(page)
    assert instance["label"] == "RBC"
    assert_close(
        instance["points"], {n: {"x": x, "y": y} for n, (x, y) in zip(names, spots, strict=True)}
    )

    drag(page, view.screen(200, 150), view.screen(230, 140))
    assert_close(value(page)[0]["points"]["edge_top"], {"x": 230.0, "y": 140.0})

    click(page, view.screen(500, 300))  # first point of a second instance
    page.get_by_role("button", name="Skip point").click()
    click(page, view.screen(520, 380))
    second = value(page)[1]
    assert second["id"] != instance["id"]
    assert_close(
        second["points"],
        {
            "nucleus": {"x": 500.0, "y": 300.0},
            "edge_top": None,
            "edge_bottom": {"x": 520.0, "y": 380.0},
        },
    )


# ---- masks ----


def test_brush_stroke_is_stored_as_row_major_rle_and_the_eraser_removes_it(page: Any) -> None:
    mount(page, control("masks"))
    view = fitted_view(page.locator("accord-image-regions"), WIDTH, HEIGHT)
    assert page.locator("accord-image-regions .image-brush-size").inner_text() == "Brush 16 px"
    a, b = (100.0, 100.0), (220.0, 160.0)
    drag(page, view.screen(*a), view.screen(*b))
    (mask,) = value(page)
    assert mask["label"] == "RBC"
    rle = mask["rle"]
    assert rle["size"] == [HEIGHT, WIDTH]
    assert sum(rle["counts"]) == WIDTH * HEIGHT
    bits = decode_rle(rle)
    for y in range(HEIGHT):
        for x in range(WIDTH):
            d = segment_distance(x + 0.5, y + 0.5, a, b)
            if d <= 7:
                assert bits[y][x] == 1, f"painted pixel ({x}, {y}) missing"
            elif d >= 9:
                assert bits[y][x] == 0, f"pixel ({x}, {y}) outside the brush is set"
    painted = value(page)

    page.keyboard.press("e")
    for _ in range(3):
        page.keyboard.press("]")  # 16 * 1.25^3 = 31.25 px
    drag(page, view.screen(160, 60), view.screen(160, 200))
    erased = decode_rle(value(page)[0]["rle"])
    assert all(erased[y][x] == 0 for y in range(100, 170) for x in range(150, 170))
    assert erased[100][100] == 1 and erased[160][220] == 1
    assert sum(value(page)[0]["rle"]["counts"]) == WIDTH * HEIGHT

    page.keyboard.press("Control+z")
    assert value(page) == painted


# ---- predictions ----


def test_model_predictions_are_shown_apart_and_can_be_accepted_or_deleted(page: Any) -> None:
    predictions = voc_boxes(IMAGE)
    mount(page, control("boxes"), predictions=predictions)
    view = fitted_view(page.locator("accord-image-regions"), WIDTH, HEIGHT)
    assert value(page) == []
    items = page.locator("accord-image-regions .region-list li.model")
    assert items.count() == len(predictions)
    assert (
        page.locator("accord-image-regions .region-list .prelabel-badge").first.inner_text()
        == "model"
    )

    # Accept with the list's button.
    page.get_by_role("button", name=f"Accept RBC {predictions[1]['id']}", exact=True).click()
    assert_close(value(page), [predictions[1]], tolerance=0.01)
    assert items.count() == len(predictions) - 1

    # Select the white cell on the image and accept it with Enter.
    wbc = next(p for p in predictions if p["label"] == "WBC")
    click(page, view.screen(*only_inside(wbc, predictions)))
    page.keyboard.press("Enter")
    assert sorted(r["id"] for r in value(page)) == sorted([predictions[1]["id"], wbc["id"]])

    # Delete a pre-label: it leaves the picture but never was in the value.
    page.get_by_role("button", name=f"Delete RBC {predictions[2]['id']}", exact=True).click()
    assert items.count() == len(predictions) - 3
    assert sorted(r["id"] for r in value(page)) == sorted([predictions[1]["id"], wbc["id"]])
    assert widget_call(page, "w.predictions.length") == len(predictions) - 3


# ---- large images ----


def test_large_image_is_drawn_at_most_once_per_frame(page: Any) -> None:
    mount(page, control("boxes"), src="/generated/large.jpg")
    assert widget_call(page, "w.imageSize") == {"width": 8000, "height": 6000}
    page.evaluate("""() => {
        window.imageDraws = 0;
        const original = CanvasRenderingContext2D.prototype.drawImage;
        CanvasRenderingContext2D.prototype.drawImage = function (source, ...rest) {
            if (source.width === 8000) window.imageDraws += 1;
            return original.call(this, source, ...rest);
        };
    }""")
    draws = page.evaluate("""async () => {
        const overlay = document.querySelector('accord-image-regions .region-layer');
        const box = overlay.getBoundingClientRect();
        for (let i = 0; i < 50; i++) {
            overlay.dispatchEvent(new WheelEvent('wheel', { deltaY: -20, clientX: box.x + 300,
                clientY: box.y + 200, bubbles: true, cancelable: true }));
        }
        await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
        return window.imageDraws;
    }""")
    assert draws == 1, f"50 wheel events in one task drew the image {draws} times"

    # Real pointer input over several frames: still no more image draws than frames.
    page.evaluate("""() => {
        window.frameCount = 0;
        (function tick() { window.frameCount++; requestAnimationFrame(tick); })();
    }""")
    page.evaluate("window.imageDraws = 0")
    view = fitted_view(page.locator("accord-image-regions"), WIDTH, HEIGHT)
    page.mouse.move(view.ox + 300, view.oy + 200)
    for _ in range(10):
        page.mouse.wheel(0, -60)
    drag(page, (view.ox + 300, view.oy + 200), (view.ox + 200, view.oy + 150), button="middle")
    page.wait_for_timeout(100)
    frames, draws = page.evaluate("[window.frameCount, window.imageDraws]")
    assert 1 <= draws <= frames + 1
