"""The duplicates page in Chromium: a manager runs the check from the page, follows it to the
figures the server stores, excludes a group and sees its redundant items leave the queue; the
item page shows the item's group and, under the flag policy, its personal data highlighted; the
settings page saves the personal-data policy."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from accord.db.engine import Database
from accord.db.models import Item, Project
from tests.api.helpers import add_items
from tests.api.test_duplicates import DUPLICATED
from tests.browser.conftest import log_in
from tests.conftest import Actor, Factory, sentiment_schema


def item_ids(db: Database, project: Project) -> list[int]:
    with db.transaction(write=False) as session:
        return list(
            session.scalars(select(Item.id).where(Item.project_id == project.id).order_by(Item.id))
        )


def statuses(db: Database, ids: list[int]) -> list[str]:
    with db.transaction(write=False) as session:
        found = dict(session.execute(select(Item.id, Item.status).where(Item.id.in_(ids))).all())
    return [found[i] for i in ids]


def test_a_manager_runs_the_check_and_excludes_a_group(
    page: Any, live_server: str, db: Database, factory: Factory, admin: Actor
) -> None:
    project = factory.project(admin, schema=sentiment_schema())
    add_items(db, project, admin.user, DUPLICATED)
    ids = item_ids(db, project)
    log_in(page, live_server, admin)
    page.goto(f"{live_server}/projects/{project.id}/duplicates")
    assert page.locator("nav.tabs a[aria-current=page]").inner_text() == "Duplicates"
    assert "No check has found duplicates yet" in page.locator("#duplicates-figures").inner_text()

    page.get_by_role("button", name="Run check").click()
    status = page.locator(".check-status")
    status.filter(has_text="Finished").wait_for(timeout=60_000)
    assert status.inner_text() == ("Finished: 2 group(s), 3 redundant item(s), redundancy 42.86%.")
    assert page.locator(".redundancy-rate").inner_text() == "42.86%"
    assert page.locator(".n-groups").inner_text() == "2"
    histogram = page.locator(".dup-histogram tbody tr")
    assert histogram.evaluate_all("rows => rows.map(r => r.dataset.size)") == ["2", "3"]
    groups = page.locator("article.dup-group")
    assert groups.evaluate_all("gs => gs.map(g => Number(g.dataset.group))") == [ids[0], ids[3]]
    first = page.locator(f"article.dup-group[data-group='{ids[0]}']")
    members = first.locator("li[data-item]")
    assert members.evaluate_all("ms => ms.map(m => Number(m.dataset.item))") == ids[:3]
    assert members.nth(0).locator(".preview").inner_text() == DUPLICATED[0]

    first.get_by_role("button", name="Exclude").click()
    done = page.locator(".action-status", has_text="Excluded")
    done.wait_for()
    assert done.inner_text() == f"Excluded 2 item(s) of the group of item #{ids[0]}."
    assert statuses(db, ids[:3]) == ["open", "excluded", "excluded"]
    refreshed = page.locator(f"article.dup-group[data-group='{ids[0]}'] .member-status")
    assert refreshed.all_inner_texts() == ["open", "excluded", "excluded"]
    assert page.locator(".n-excluded").inner_text() == "2"

    # The item page shows the group, linking to its representative.
    page.goto(f"{live_server}/projects/{project.id}/items/{ids[1]}")
    section = page.locator("section.item-duplicates")
    assert f"This item repeats item #{ids[0]}" in " ".join(section.inner_text().split())
    section.get_by_role("link", name=f"item #{ids[0]}").click()
    page.wait_for_url(f"{live_server}/projects/{project.id}/items/{ids[0]}")
    assert "represents a group of 3 items" in page.locator("section.item-duplicates").inner_text()


def test_the_item_page_highlights_personal_data_and_settings_save_the_policy(
    page: Any, live_server: str, db: Database, factory: Factory, admin: Actor
) -> None:
    project = factory.project(admin, schema=sentiment_schema(), pii_policy="flag")
    text = "Mail jane.roe@example.org or call (202) 555-0173 today."
    add_items(db, project, admin.user, [text])
    (item_id,) = item_ids(db, project)
    log_in(page, live_server, admin)
    page.goto(f"{live_server}/projects/{project.id}/items/{item_id}")
    marks = page.locator(".pii-text[data-field=text] mark.pii")
    assert marks.all_inner_texts() == ["jane.roe@example.org", "(202) 555-0173"]
    assert marks.evaluate_all("ms => ms.map(m => m.dataset.kind)") == ["EMAIL", "PHONE"]
    assert page.locator(".pii-text[data-field=text]").inner_text() == text

    page.goto(f"{live_server}/projects/{project.id}/settings")
    assert page.locator("#p-pii-policy").input_value() == "flag"
    assert page.locator(".pii-found").inner_text() == "1 item(s) hold personal data"
    page.select_option("#p-pii-policy", "redact")
    page.locator("form.api-form").first.get_by_role("button", name="Save").click()
    page.locator(".form-status", has_text="Saved").wait_for()
    with db.transaction(write=False) as session:
        stored = session.get(Project, project.id)
        assert stored is not None and stored.pii_policy == "redact"
