"""Every page renders for a manager, starts with a working skip link (the labeling and practice
pages put the focus on the work instead), and leaves a screenshot in test-artifacts/."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.helpers import add_items
from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.test_labeling_text import CLASSIFY
from tests.conftest import Actor, Factory


def test_every_page_renders_and_starts_with_a_skip_link(
    page: Any, live_server: str, db: Any, factory: Factory, admin: Actor
) -> None:
    manager = factory.user()
    project = factory.project(admin, schema=CLASSIFY, members={"manager": manager})
    add_items(db, project, admin.user, ["first item", "second item"])
    page.goto(f"{live_server}/login")
    page.screenshot(path=str(ARTIFACTS / "page-login.png"))
    log_in(page, live_server, manager)
    first_item, second_item = page.evaluate(
        "async (p) => (await (await fetch(`/api/v1/projects/${p}/items`)).json())"
        ".items.map(i => i.id)",
        project.id,
    )
    made_gold = httpx.put(
        f"{live_server}/api/v1/projects/{project.id}/items/{second_item}/gold",
        json={"result": {"sentiment": "positive"}},
        headers=manager.headers,
    )
    assert made_gold.status_code == 200, made_gold.text
    pages = {
        "projects": ("/", "Projects"),
        "overview": (f"/projects/{project.id}", project.name),
        "data": (f"/projects/{project.id}/items", project.name),
        "item": (f"/projects/{project.id}/items/{first_item}", f"item #{first_item}"),
        "item-gold": (f"/projects/{project.id}/items/{second_item}", f"item #{second_item}"),
        "data-gold": (f"/projects/{project.id}/items?status=gold", project.name),
        "label": (f"/projects/{project.id}/label", project.name),
        "review": (f"/projects/{project.id}/review", project.name),
        "review-suspected": (f"/projects/{project.id}/review?queue=suspected", project.name),
        "quality": (f"/projects/{project.id}/quality", project.name),
        "adjudicate": (f"/projects/{project.id}/adjudicate", project.name),
        "questions": (f"/projects/{project.id}/questions", project.name),
        "performance": (f"/projects/{project.id}/performance", project.name),
        "practice": (f"/projects/{project.id}/practice", project.name),
        "import": (f"/projects/{project.id}/import", project.name),
        "export": (f"/projects/{project.id}/export", project.name),
        "settings": (f"/projects/{project.id}/settings", project.name),
        "models": (f"/projects/{project.id}/models", project.name),
        "duplicates": (f"/projects/{project.id}/duplicates", project.name),
        "weak-supervision": (f"/projects/{project.id}/weak-supervision", project.name),
    }
    for name, (path, heading) in pages.items():
        response = page.goto(f"{live_server}{path}")
        assert response is not None and response.status == 200, name
        assert heading in page.locator("h1").first.inner_text(), name
        page.wait_for_load_state("networkidle")
        if name in ("label", "practice"):
            # Keyboard first: the labeler (and the trainer) put the focus on the work itself.
            widget = "accord-labeler" if name == "label" else "accord-trainer"
            assert page.evaluate(f"!!document.activeElement.closest('{widget}')"), name
            page.screenshot(path=str(ARTIFACTS / f"page-{name}.png"), full_page=True)
            continue
        page.keyboard.press("Tab")
        skip = page.locator(":focus")
        assert skip.inner_text() == "Skip to content", name
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main", name
        page.screenshot(path=str(ARTIFACTS / f"page-{name}.png"), full_page=True)
    page.goto(f"{live_server}/projects/999999")
    assert page.locator("h1").inner_text() == "Not found"
    page.locator("form.logout button").click()
    page.wait_for_url(f"{live_server}/login")
