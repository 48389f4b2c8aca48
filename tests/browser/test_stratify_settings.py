"""The stratified order on the settings page: the metadata field and the target shares (JSON)
are saved through the API, and shares naming a group the items do not have are refused beside
their field."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.helpers import add_items
from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import Actor, Factory


def test_target_shares_are_set_on_the_settings_page(
    page: Any, live_server: str, db: Any, factory: Factory, admin: Actor
) -> None:
    manager = factory.user()
    project = factory.project(admin, members={"manager": manager})
    add_items(
        db, project, admin.user, ["one", "two", "three"], meta=[{"lang": "en"}, {"lang": "de"}, {}]
    )
    log_in(page, live_server, manager)
    page.goto(f"{live_server}/projects/{project.id}/settings")
    save = page.locator("form[data-method=PATCH] button[type=submit]")
    saved = page.locator("form[data-method=PATCH] .form-status")

    page.select_option("#p-strategy", "stratified")
    page.fill("#p-stratify-by", "lang")
    page.fill("#p-stratify-shares", '{"en": 0.6, "fr": 0.2, "*": 0.2}')
    save.click()
    error = page.locator("#p-stratify-shares-error")
    error.wait_for()
    assert "'fr'" in error.inner_text() and "'de', 'en'" in error.inner_text()
    assert page.locator("#p-stratify-shares").get_attribute("aria-invalid") == "true"

    page.fill("#p-stratify-shares", '{"en": 0.6, "*": 0.4}')
    save.click()
    saved.filter(has_text="Saved.").wait_for()
    stored = httpx.get(f"{live_server}/api/v1/projects/{project.id}", headers=admin.headers).json()
    assert (stored["strategy"], stored["stratify_by"]) == ("stratified", "lang")
    assert stored["stratify_shares"] == {"en": 0.6, "*": 0.4}

    page.reload()
    assert page.locator("#p-stratify-by").input_value() == "lang"
    shown = page.locator("#p-stratify-shares").input_value()
    assert httpx.Response(200, content=shown).json() == {"en": 0.6, "*": 0.4}
    page.screenshot(path=str(ARTIFACTS / "settings-stratify-shares.png"), full_page=True)

    page.fill("#p-stratify-shares", "")  # empty clears them
    saved.evaluate("status => { status.textContent = ''; }")
    save.click()
    saved.filter(has_text="Saved.").wait_for()
    stored = httpx.get(f"{live_server}/api/v1/projects/{project.id}", headers=admin.headers).json()
    assert stored["stratify_shares"] is None and stored["stratify_by"] == "lang"
