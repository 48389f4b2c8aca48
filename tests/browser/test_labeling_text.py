"""An annotator labels text in the browser; the stored annotations are read back through the
API and compared exactly."""

from __future__ import annotations

from typing import Any

import httpx

from accord.db.models import Project
from tests.api.helpers import add_items
from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import Actor, Factory

CLASSIFY = {
    "fields": [{"name": "text", "type": "text"}],
    "controls": [
        {
            "name": "sentiment",
            "type": "choices",
            "field": "text",
            "required": True,
            "labels": [{"value": "positive", "hotkey": "1"}, {"value": "negative", "hotkey": "2"}],
        }
    ],
}
NER = {
    "fields": [{"name": "text", "type": "text"}],
    "controls": [
        {
            "name": "entities",
            "type": "spans",
            "field": "text",
            "labels": [
                {"value": "PER", "hotkey": "p"},
                {"value": "ORG", "hotkey": "o"},
                {"value": "LOC", "hotkey": "l"},
            ],
        }
    ],
}


def open_labeling(
    page: Any,
    live_server: str,
    db: Any,
    factory: Factory,
    admin: Actor,
    schema: dict[str, Any],
    texts: list[str],
) -> tuple[Project, Actor]:
    """A project of these texts with one annotator, who is logged in on its labeling page."""
    annotator = factory.user()
    project = factory.project(admin, schema=schema, members={"annotator": annotator})
    add_items(db, project, admin.user, texts)
    log_in(page, live_server, annotator)
    page.goto(f"{live_server}/projects/{project.id}/label")
    return project, annotator


def annotations(base: str, actor: Actor, project_id: int) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{base}/api/v1/projects/{project_id}/annotations", headers=actor.headers, timeout=10
    )
    response.raise_for_status()
    return sorted(response.json(), key=lambda a: a["item_id"])


def item_texts(base: str, actor: Actor, project_id: int) -> dict[int, str]:
    response = httpx.get(f"{base}/api/v1/projects/{project_id}/items", headers=actor.headers)
    return {i["id"]: i["data"]["text"] for i in response.json()["items"]}


def test_text_classification_with_hotkeys(
    page: Any, live_server: str, db: Any, factory: Factory, admin: Actor
) -> None:
    project, annotator = open_labeling(
        page,
        live_server,
        db,
        factory,
        admin,
        CLASSIFY,
        ["a wonderful film", "a dull mess", "truly moving"],
    )
    answers = {"a wonderful film": "1", "a dull mess": "2", "truly moving": "1"}
    for _ in answers:
        text = page.locator("accord-labeler .item-text").inner_text(timeout=10_000)
        shown = page.locator("accord-labeler").get_attribute("data-item-id")
        page.keyboard.press(answers[text])
        if text == "a dull mess":
            page.screenshot(path=str(ARTIFACTS / "labeling-text-classification.png"))
        page.keyboard.press("Control+Enter")
        page.wait_for_function(
            "id => { const l = document.querySelector('accord-labeler');"
            " return l.dataset.itemId !== id || l.querySelector('.done-card'); }",
            arg=shown,
        )
    page.locator(".done-card").wait_for()
    stored = annotations(live_server, annotator, project.id)
    texts = item_texts(live_server, admin, project.id)
    expected = {"1": "positive", "2": "negative"}
    assert {texts[a["item_id"]]: a["result"] for a in stored} == {
        t: {"sentiment": expected[k]} for t, k in answers.items()
    }
    assert all(a["lead_time"] is not None and a["lead_time"] > 0 for a in stored)


def test_a_refused_submission_shows_the_rule_next_to_the_control(
    page: Any, live_server: str, db: Any, factory: Factory, admin: Actor
) -> None:
    project, annotator = open_labeling(
        page, live_server, db, factory, admin, CLASSIFY, ["needs an answer"]
    )
    page.locator("accord-labeler .item-text").wait_for()
    page.keyboard.press("Control+Enter")
    error = page.locator("accord-choices .widget-error")
    error.wait_for()
    assert "required" in error.inner_text().lower()
    assert annotations(live_server, annotator, project.id) == []
    page.keyboard.press("2")
    page.keyboard.press("Control+Enter")
    page.locator(".done-card").wait_for()
    assert [a["result"] for a in annotations(live_server, annotator, project.id)] == [
        {"sentiment": "negative"}
    ]


def utf16(text: str, index: int) -> int:
    """The browser's offset (UTF-16 code units) of a Python string index (code points)."""
    return len(text[:index].encode("utf-16-le")) // 2


def select_text(page: Any, text: str, start: int, end: int) -> None:
    """Drag the mouse from the left part of character ``start`` to the right part of character
    ``end - 1``, as a person selecting those characters does."""
    start, end = utf16(text, start), utf16(text, end)
    box = page.evaluate(
        """([start, end]) => {
            const root = document.querySelector('accord-text-spans .span-text');
            const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
            const at = (offset) => {
                let node, seen = 0;
                while ((node = walker.nextNode())) {
                    if (offset < seen + node.length) return [node, offset - seen];
                    seen += node.length;
                }
            };
            const rectOf = (offset) => {
                walker.currentNode = root;
                const [node, local] = at(offset);
                const range = document.createRange();
                range.setStart(node, local);
                range.setEnd(node, local + 1);
                return range.getBoundingClientRect();
            };
            const a = rectOf(start), b = rectOf(end - 1);
            return {x1: a.left + a.width * 0.3, y1: a.top + a.height / 2,
                    x2: b.left + b.width * 0.7, y2: b.top + b.height / 2};
        }""",
        [start, end],
    )
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move(box["x2"], box["y2"], steps=5)
    page.mouse.up()


def test_named_entities_by_mouse_selection_snap_to_words(
    page: Any, live_server: str, db: Any, factory: Factory, admin: Actor
) -> None:
    text = "Yesterday Barack Obama visited Microsoft in Redmond, said Ana 👩‍🔬 López."
    project, annotator = open_labeling(page, live_server, db, factory, admin, NER, [text])
    page.locator("accord-text-spans .span-text").wait_for()
    # From the middle of "Barack" to the middle of "Obama": snapped to "Barack Obama".
    select_text(page, text, text.index("Barack") + 2, text.index("Obama") + 3)
    page.keyboard.press("o")  # the active label becomes ORG, for the next selection
    select_text(page, text, text.index("Microsoft"), text.index("Microsoft") + len("Microsoft"))
    page.keyboard.press("l")
    select_text(page, text, text.index("Redmond") + 1, text.index("Redmond") + 4)
    page.keyboard.press("p")
    # After an emoji (two UTF-16 units per code point here), offsets must stay code points.
    select_text(page, text, text.index("López") + 1, text.index("López") + 3)
    assert page.locator("accord-text-spans mark").count() >= 4
    page.screenshot(path=str(ARTIFACTS / "labeling-ner.png"))
    page.keyboard.press("Control+Enter")
    page.locator(".done-card").wait_for()
    (stored,) = annotations(live_server, annotator, project.id)
    spans = sorted(
        ((s["label"], s["start"], s["end"], s["text"]) for s in stored["result"]["entities"]),
        key=lambda s: s[1],
    )

    def at(word: str) -> tuple[int, int, str]:
        start = text.index(word)
        return start, start + len(word), word

    assert spans == [
        ("PER", *at("Barack Obama")),
        ("ORG", *at("Microsoft")),
        ("LOC", *at("Redmond")),
        ("PER", *at("López")),
    ]
    for _, start, end, word in spans:
        assert text[start:end] == word  # Python offsets: code points


def test_spans_by_keyboard(
    page: Any, live_server: str, db: Any, factory: Factory, admin: Actor
) -> None:
    text = "Ada Lovelace worked with Charles Babbage."
    project, annotator = open_labeling(page, live_server, db, factory, admin, NER, [text])
    page.locator("accord-text-spans .span-text").focus()
    page.keyboard.press("ArrowRight")  # the cursor appears on the first word
    page.keyboard.press("Shift+ArrowRight")  # ... and extends over "Lovelace"
    page.keyboard.press("p")
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # worked, with, Charles
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Enter")  # the active label is still PER
    page.keyboard.press("Control+Enter")
    page.locator(".done-card").wait_for()
    (stored,) = annotations(live_server, annotator, project.id)
    assert [(s["label"], s["text"]) for s in stored["result"]["entities"]] == [
        ("PER", "Ada Lovelace"),
        ("PER", "Charles Babbage"),
    ]


def test_item_text_with_markup_is_shown_literally_and_runs_nothing(
    page: Any, live_server: str, db: Any, factory: Factory, admin: Actor
) -> None:
    hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
    open_labeling(page, live_server, db, factory, admin, CLASSIFY, [hostile])
    shown = page.locator("accord-labeler .item-text")
    shown.wait_for()
    assert shown.inner_text() == hostile
    assert page.locator("accord-labeler img").count() == 0
    assert page.evaluate("window.__pwned") is None


NER_WITH_RELATIONS = {
    "fields": [{"name": "text", "type": "text"}],
    "controls": [
        *NER["controls"],
        {
            "name": "links",
            "type": "relations",
            "field": "text",
            "spans": "entities",
            "labels": ["works_for"],
        },
    ],
}


def test_relations_between_two_spans_and_model_pre_labels(
    page: Any, live_server: str, db: Any, factory: Factory, admin: Actor
) -> None:
    annotator = factory.user()
    project = factory.project(admin, schema=NER_WITH_RELATIONS, members={"annotator": annotator})
    text = "Grace Hopper worked for the Navy."
    add_items(db, project, admin.user, [text])
    item_id = next(iter(item_texts(live_server, admin, project.id)))
    predicted = {"entities": [{"id": "m1", "label": "ORG", "start": 28, "end": 32}]}
    response = httpx.post(
        f"{live_server}/api/v1/projects/{project.id}/predictions",
        json={
            "predictions": [
                {
                    "item_id": item_id,
                    "model_name": "ner",
                    "model_version": "1",
                    "result": predicted,
                    "score": 0.9,
                }
            ]
        },
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    log_in(page, live_server, annotator)
    page.goto(f"{live_server}/projects/{project.id}/label")
    page.locator("accord-text-spans mark.prelabel").wait_for()  # the model's "Navy", dashed
    assert "pre-labels from ner 1" in page.locator(".item-header").inner_text()
    select_text(page, text, 0, len("Grace Hopper"))
    page.locator("accord-text-spans mark.prelabel").dblclick()  # accept the pre-label
    assert page.locator("accord-text-spans mark.prelabel").count() == 0
    page.locator("accord-text-spans mark", has_text="Grace").click()  # select the person
    page.keyboard.press("r")  # link it ...
    page.locator("accord-text-spans mark", has_text="Navy").click()  # ... to the organisation
    assert "works_for" in page.locator(".relation-list").inner_text()
    page.keyboard.press("Control+Enter")
    page.locator(".done-card").wait_for()
    (stored,) = annotations(live_server, annotator, project.id)
    spans = {s["text"]: s for s in stored["result"]["entities"]}
    assert {t: s["label"] for t, s in spans.items()} == {"Grace Hopper": "PER", "Navy": "ORG"}
    (link,) = stored["result"]["links"]
    assert (link["label"], link["from"], link["to"]) == (
        "works_for",
        spans["Grace Hopper"]["id"],
        spans["Navy"]["id"],
    )


def test_a_document_of_50000_characters_is_labeled_exactly(
    page: Any, live_server: str, db: Any, factory: Factory, admin: Actor
) -> None:
    words = [f"word{i}" for i in range(7000)]
    text = " ".join(words)[:50_000] + " Lovelace."
    project, annotator = open_labeling(page, live_server, db, factory, admin, NER, [text])
    page.locator("accord-text-spans .span-text").wait_for()
    start = text.index("Lovelace")
    page.evaluate("() => document.querySelector('accord-text-spans .span-text').scrollTop = 1e9")
    select_text(page, text, start, start + len("Lovelace"))
    middle = text.index(" word3000 ") + 1
    page.evaluate(
        "() => { const box = document.querySelector('accord-text-spans .span-text');"
        " box.scrollTop = box.scrollHeight / 2 - 100; }"
    )
    mark_visible = page.evaluate(
        """(start) => {
            const box = document.querySelector('accord-text-spans .span-text');
            return box.scrollHeight > box.clientHeight;
        }""",
        middle,
    )
    assert mark_visible  # the text scrolls inside its box rather than stretching the page
    page.keyboard.press("Control+Enter")
    page.locator(".done-card").wait_for()
    (stored,) = annotations(live_server, annotator, project.id)
    assert [(s["start"], s["end"], s["text"]) for s in stored["result"]["entities"]] == [
        (start, start + len("Lovelace"), "Lovelace")
    ]
