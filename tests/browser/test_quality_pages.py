"""Quality in the browser, on a project holding real crowd labels (zheng_dog): a manager
recomputes and sees exactly the figures the API stores; suspects lead to the filtered data
browser, the item page and the review queue, where "Labels are right" dismisses them; the
quality settings save and show the server's errors."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pandas as pd
import pytest
from sqlalchemy import select, update

from accord.core.consensus_methods import METHODS
from accord.db.engine import Database
from accord.db.models import Job, Project, User
from tests.api.crowd_project import Labeled, labeled_project
from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.test_labeling_text import CLASSIFY
from tests.conftest import Actor, Factory


@pytest.fixture(scope="module")
def workers(factory: Factory, crowd: pd.DataFrame) -> dict[str, Actor]:
    """One account per crowd worker, shared by the module's projects (accounts cost a password
    hash each; the workers never log in)."""
    return {w: factory.user() for w in sorted(crowd["worker"].unique())}


@pytest.fixture()
def labeled(
    db: Database,
    factory: Factory,
    admin: Actor,
    crowd: pd.DataFrame,
    workers: dict[str, Actor],
) -> Labeled:
    return labeled_project(db, factory, admin, crowd, workers)


def call(base: str, actor: Actor, method: str, path: str, body: Any = None, **params: Any) -> Any:
    response = httpx.request(
        method, f"{base}/api/v1{path}", json=body, params=params, headers=actor.headers
    )
    response.raise_for_status()
    return response.json() if response.content else None


def run_quality(base: str, actor: Actor, project: Project, **body: Any) -> dict[str, Any]:
    job = call(base, actor, "POST", f"/projects/{project.id}/quality/jobs", body)
    deadline = time.monotonic() + 120
    while job["status"] not in ("finished", "failed"):
        assert time.monotonic() < deadline, f"quality job {job['id']} did not finish"
        time.sleep(0.1)
        job = call(base, actor, "GET", f"/jobs/{job['id']}")
    assert job["status"] == "finished", job["error"]
    return dict(job)


def suspects(base: str, actor: Actor, project: Project, status: str = "open") -> list[Any]:
    found = call(
        base, actor, "GET", f"/projects/{project.id}/quality/suspects", status=status, limit=5000
    )
    return list(found)


def add_manager(base: str, admin: Actor, project: Project, factory: Factory) -> Actor:
    manager = factory.user()
    path = f"/projects/{project.id}/members/{manager.user.username}"
    call(base, admin, "PUT", path, {"role": "manager"})
    return manager


def cells(row: Any) -> list[str]:
    return [c.strip() for c in row.locator("th, td").all_inner_texts()]


def ci(row: dict[str, Any], name: str) -> str:
    """A value as the page shows it, with its interval when the report has one."""
    low, high = row.get(f"{name}_low"), row.get(f"{name}_high")
    interval = f" ({f3(low)} – {f3(high)})" if low is not None and high is not None else ""
    return f3(row[name]) + interval


def wait_for_item(page: Any, item_id: int) -> None:
    page.wait_for_function(
        f"document.querySelector('accord-reviewer').dataset.itemId === '{item_id}'"
    )


def f3(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def test_a_manager_recomputes_and_sees_the_figures_the_api_stores(
    page: Any, live_server: str, db: Database, factory: Factory, admin: Actor, labeled: Labeled
) -> None:
    project, _, frame = labeled
    manager = add_manager(live_server, admin, project, factory)
    log_in(page, live_server, manager)
    page.goto(f"{live_server}/projects/{project.id}/quality")
    assert (
        "Quality has not been computed for this project yet"
        in page.locator("#quality-figures").inner_text()
    )
    assert page.locator("#q-method").input_value() == "dawid_skene"  # the project's method
    assert page.locator("#q-method option").evaluate_all("os => os.map(o => o.value)") == sorted(
        METHODS
    )

    # A run already under way when the page opens is followed, and its failure reported.
    with db.transaction() as session:
        job = Job(kind="quality", project_id=project.id, created_by=manager.user.id, params={})
        session.add(job)
        session.flush()
        job_id = job.id
    page.reload()
    waiting = page.locator(".recompute-status", has_text="Waiting for a worker to start the run…")
    waiting.wait_for()
    assert page.get_by_role("button", name="Recompute").is_disabled()
    with db.transaction() as session:
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status="failed", error="MemoryError: out of memory\nTraceback …")
        )
    failure = page.locator(".recompute-status.error")
    failure.wait_for()
    assert failure.inner_text() == "The quality run failed: MemoryError: out of memory"
    assert page.get_by_role("button", name="Recompute").is_enabled()

    # A method the server does not know: its reason shows and nothing runs.
    page.evaluate(
        "() => { const s = document.querySelector('#q-method');"
        " s.add(new Option('nonsense', 'nonsense')); s.value = 'nonsense'; }"
    )
    page.get_by_role("button", name="Recompute").click()
    failure = page.locator(".recompute-status.error", has_text="could not start")
    failure.wait_for()
    refused = httpx.post(
        f"{live_server}/api/v1/projects/{project.id}/quality/jobs",
        json={"method": "nonsense"},
        headers=manager.headers,
    )
    assert refused.status_code == 422
    assert failure.inner_text() == f"The run could not start: {refused.json()['detail']}"
    assert page.locator("#q-method").get_attribute("aria-invalid") == "true"
    assert call(live_server, manager, "GET", f"/projects/{project.id}/quality/runs") == []

    page.select_option("#q-method", "dawid_skene")
    page.evaluate(
        "() => { window.notReloaded = true; window.statuses = [];"
        " const box = document.querySelector('.recompute-status');"
        " new MutationObserver(() => window.statuses.push(box.textContent))"
        ".observe(box, {childList: true, characterData: true, subtree: true}); }"
    )
    page.get_by_role("button", name="Recompute").click()
    done = page.locator(".recompute-status.ok")
    done.wait_for(timeout=120_000)
    assert page.evaluate("window.notReloaded") is True  # the figures came in place
    statuses = page.evaluate("window.statuses")
    assert statuses[0] == "Starting a run with Dawid–Skene…"
    open_now = suspects(live_server, manager, project)
    assert done.inner_text() == (
        f"Finished with Dawid–Skene · breed: 60 items, {len(open_now)} suspected errors."
    )
    assert page.get_by_role("button", name="Recompute").is_enabled()

    (run,) = call(live_server, manager, "GET", f"/projects/{project.id}/quality/runs")
    section = page.locator("section.quality-control[data-control=breed]")
    assert section.locator(".run-method").inner_text() == "Dawid–Skene"
    counts = {
        key: section.locator(f"[data-count={key}]").inner_text()
        for key in ("items", "labels", "annotators", "open-suspects")
    }
    assert counts == {
        "items": str(run["n_items"]),
        "labels": str(run["n_labels"]),
        "annotators": str(run["n_annotators"]),
        "open-suspects": str(len(open_now)),
    }
    assert (run["n_items"], run["n_labels"], run["n_suspects"]) == (60, 600, len(open_now))
    assert page.locator(".open-suspects").inner_text() == str(len(open_now))

    report = run["report"]
    assert [r["statistic"] for r in report["overall"]] == [
        "percent_agreement",
        "fleiss_kappa",
        "krippendorff_alpha",
        "gwet_ac1",
    ]
    overall = section.locator("table.agreement-overall tbody tr")
    assert [cells(overall.nth(i)) for i in range(overall.count())] == [
        [name, f3(r["value"]), f"{f3(r['low'])} – {f3(r['high'])}"]
        for name, r in zip(
            ["Percent agreement", "Fleiss' kappa", "Krippendorff's alpha", "Gwet's AC1"],
            report["overall"],
            strict=True,
        )
    ]
    assert section.locator("table.agreement-overall thead").inner_text().count("95% interval") == 1

    per_label = section.locator("table.agreement-labels tbody tr")
    assert [cells(per_label.nth(i)) for i in range(per_label.count())] == [
        [
            r["label"],
            str(int(r["n_labels"])),
            f3(r["share"]),
            ci(r, "specific_agreement"),
            ci(r, "kappa"),
        ]
        for r in report["per_label"]
    ]

    # Annotators: the stored skills, weakest first, with the report's agreement with others.
    skills = call(live_server, manager, "GET", f"/projects/{project.id}/quality/skills")
    with db.transaction(write=False) as session:
        ids = {name: user_id for name, user_id in session.execute(select(User.username, User.id))}
    others = {r["annotator"]: r for r in report["per_annotator"]}
    expected = [
        [
            s["annotator"],
            str(s["n_labels"]),
            f3(s["skill"]),
            f3(s["agreement"]),
            ci(others[ids[s["annotator"]]], "with_others"),
        ]
        for s in sorted(skills, key=lambda s: (s["skill"], s["agreement"], s["annotator"]))
    ]
    rows = section.locator("table.annotators tbody tr")
    assert rows.count() == frame["annotator"].nunique() == len(skills)
    assert [cells(rows.nth(i)) for i in range(rows.count())] == expected
    shown = [float(t) for t in section.locator("table.annotators td.skill").all_inner_texts()]
    assert shown == sorted(shown) and shown[0] < shown[-1]

    labels_header = section.locator("table.annotators th", has_text="Labels")
    labels_header.get_by_role("button").click()
    counts_shown = [int(cells(rows.nth(i))[1]) for i in range(rows.count())]
    assert counts_shown == sorted(counts_shown)
    assert labels_header.get_attribute("aria-sort") == "ascending"
    labels_header.get_by_role("button").click()
    counts_shown = [int(cells(rows.nth(i))[1]) for i in range(rows.count())]
    assert counts_shown == sorted(counts_shown, reverse=True)
    assert labels_header.get_attribute("aria-sort") == "descending"

    top = section.locator("table.top-suspects tbody tr")
    assert [cells(top.nth(i))[:4] for i in range(top.count())] == [
        [
            f"#{s['item_id']}",
            f"{s['score']:.2f}",
            s["label"],
            s["suggested_label"] if s["suggested_label"] not in (None, s["label"]) else "—",
        ]
        for s in open_now[:10]
    ]
    assert open_now[0]["reasons"][0] in top.first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "quality-page.png"), full_page=True)

    # A second run with another method replaces the figures in place.
    page.select_option("#q-method", "majority_vote")
    page.get_by_role("button", name="Recompute").click()
    page.locator(".recompute-status.ok", has_text="Finished with Majority vote").wait_for(
        timeout=120_000
    )
    assert section.locator(".run-method").inner_text() == "Majority vote"
    (second,) = call(live_server, manager, "GET", f"/projects/{project.id}/quality/runs")
    assert second["method"] == "majority_vote" and second["id"] > run["id"]


def test_suspects_lead_to_the_data_browser_and_the_review_queue(
    page: Any, live_server: str, admin: Actor, labeled: Labeled
) -> None:
    project, reviewer, _ = labeled
    run_quality(live_server, admin, project, method="majority_vote")
    ranked = suspects(live_server, reviewer, project)
    assert len(ranked) >= 5

    log_in(page, live_server, reviewer)
    page.goto(f"{live_server}/projects/{project.id}")
    page.get_by_role("link", name="Quality").click()
    page.wait_for_url(f"**/projects/{project.id}/quality")
    assert page.get_by_role("button", name="Recompute").count() == 0  # managers only
    assert page.locator(".open-suspects").inner_text() == str(len(ranked))

    page.get_by_role("link", name="All suspects in the data browser").click()
    page.wait_for_url(f"**/projects/{project.id}/items?suspected=1")
    assert page.locator("#f-suspected").is_checked()
    listed = page.locator("table.grid tbody td:first-child a").all_inner_texts()
    assert [int(t.lstrip("#")) for t in listed] == sorted(s["item_id"] for s in ranked)[:50]

    page.go_back()
    page.get_by_role("link", name="Review suspects").click()
    page.wait_for_url(f"**/projects/{project.id}/review?queue=suspected")
    reviewer_view = page.locator("accord-reviewer")
    suspicion = page.locator("accord-reviewer .suspicion")
    suspicion.wait_for()
    first, second, third, fourth = (s["item_id"] for s in ranked[:4])
    assert reviewer_view.get_attribute("data-item-id") == str(first)
    assert f"{len(ranked)} suspected item(s) open" in reviewer_view.inner_text()
    for reason in ranked[0]["reasons"]:
        assert reason in suspicion.inner_text()
    assert f"score {ranked[0]['score']:.2f}" in suspicion.inner_text()
    above = page.evaluate(
        "document.querySelector('accord-reviewer .suspicion').compareDocumentPosition("
        "document.querySelector('.review-annotations')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    assert above, "the reasons come before the annotations"
    page.screenshot(path=str(ARTIFACTS / "review-suspected.png"), full_page=True)

    page.get_by_role("button", name="Labels are right").click()
    wait_for_item(page, second)
    assert page.locator(".review-status").inner_text() == (
        f"Item {first}: the labels are right, its suspicion is dismissed."
    )
    assert [s["item_id"] for s in suspects(live_server, reviewer, project, "dismissed")] == [first]

    # Rejecting an answer confirms the suspicion (on the server).
    card = page.locator(".review-card").first
    card.locator(".reject-reason").fill("that is not the breed in the picture")
    card.get_by_role("button", name="Reject").click()
    page.locator(".review-status.ok", has_text="the suspicion is confirmed").wait_for()
    assert [s["item_id"] for s in suspects(live_server, reviewer, project, "confirmed")] == [second]

    # Fixing an answer confirms it too, and the fix returns to the suspected queue.
    page.get_by_role("button", name="Next item").click()
    wait_for_item(page, third)
    fixed = page.locator(".review-card").first
    fixed_id = int(fixed.get_attribute("data-annotation"))
    old_label = call(live_server, reviewer, "GET", f"/projects/{project.id}/annotations/{fixed_id}")
    new_label = next(v for v in ("0", "1", "2", "3") if v != old_label["result"]["breed"])
    fixed.get_by_role("link", name="Fix").click()
    page.wait_for_url(f"**/label?fix={fixed_id}&queue=suspected")
    page.locator(f"accord-choices input[value='{new_label}']").check()
    page.locator("accord-labeler").get_by_role("button", name="Save revision").click()
    page.wait_for_url(f"**/projects/{project.id}/review?queue=suspected")
    wait_for_item(page, fourth)
    confirmed = {s["item_id"] for s in suspects(live_server, reviewer, project, "confirmed")}
    assert confirmed == {second, third}

    for s in ranked[4:]:  # resolved by someone else meanwhile
        call(
            live_server,
            reviewer,
            "POST",
            f"/projects/{project.id}/quality/suspects/{s['item_id']}",
            {"status": "dismissed"},
        )
    page.keyboard.press("d")  # Labels are right, by keyboard
    done = page.locator("accord-reviewer .done-card")
    done.wait_for()
    assert done.locator("h2").inner_text() == "No suspected errors left to review"
    assert suspects(live_server, reviewer, project) == []
    dismissed = {s["item_id"] for s in suspects(live_server, reviewer, project, "dismissed")}
    assert dismissed == {s["item_id"] for s in ranked} - {second, third}
    page.reload()
    page.locator("accord-reviewer .done-card").wait_for()
    assert "Suspected errors 0" in " ".join(page.locator(".queue-switch").inner_text().split())


def test_the_item_page_shows_consensus_and_resolves_the_suspicion(
    page: Any, live_server: str, admin: Actor, labeled: Labeled
) -> None:
    project, reviewer, _ = labeled
    run_quality(live_server, admin, project, method="majority_vote")
    consensus = {
        r["item_id"]: r
        for r in call(
            live_server, reviewer, "GET", f"/projects/{project.id}/quality/consensus", limit=5000
        )
    }
    ranked = suspects(live_server, reviewer, project)
    suspect = ranked[0]
    calm = min(set(consensus) - {s["item_id"] for s in ranked})

    log_in(page, live_server, reviewer)
    page.goto(f"{live_server}/projects/{project.id}/items/{calm}")
    box = page.locator(".item-control-quality[data-control=breed]")
    assert box.locator(".consensus-label").inner_text() == consensus[calm]["label"]
    assert box.locator(".consensus-confidence").inner_text() == (
        f"{consensus[calm]['confidence']:.3f}"
    )
    assert box.locator(".consensus-method").inner_text() == "Majority vote"
    assert page.locator(".suspicion").count() == 0
    assert page.get_by_role("button", name="Confirm error").count() == 0

    page.goto(f"{live_server}/projects/{project.id}/quality")
    page.locator("table.top-suspects").get_by_role("link", name=f"#{suspect['item_id']}").click()
    page.wait_for_url(f"**/projects/{project.id}/items/{suspect['item_id']}")
    assert box.locator(".consensus-label").inner_text() == consensus[suspect["item_id"]]["label"]
    suspicion = page.locator(".suspicion[data-suspect-control=breed]")
    assert suspicion.locator(".suspect-score").inner_text() == f"{suspect['score']:.2f}"
    assert suspicion.locator(".suspect-label").inner_text() == suspect["label"]
    assert suspicion.locator(".suspect-status").inner_text() == "open"
    assert suspect["reasons"][0] in suspicion.inner_text()

    page.get_by_role("button", name="Confirm error").click()
    page.locator(".suspect-status.confirmed").wait_for()
    assert page.locator(".resolve-status").inner_text().startswith("Confirmed: the label is wrong")
    confirmed = suspects(live_server, reviewer, project, "confirmed")
    assert [s["item_id"] for s in confirmed] == [suspect["item_id"]]

    page.get_by_role("button", name="Labels are right").click()
    page.locator(".suspect-status.dismissed").wait_for()
    assert suspects(live_server, reviewer, project, "confirmed") == []
    dismissed = suspects(live_server, reviewer, project, "dismissed")
    assert [s["item_id"] for s in dismissed] == [suspect["item_id"]]
    page.reload()
    assert suspicion.locator(".suspect-status").inner_text() == "dismissed"
    pressed = page.get_by_role("button", name="Labels are right").get_attribute("aria-pressed")
    assert pressed == "true"
    page.screenshot(path=str(ARTIFACTS / "item-quality.png"), full_page=True)


def test_quality_settings_save_and_show_the_servers_errors(
    page: Any, live_server: str, factory: Factory, admin: Actor
) -> None:
    manager = factory.user()
    project = factory.project(admin, schema=CLASSIFY, members={"manager": manager})
    log_in(page, live_server, manager)
    page.goto(f"{live_server}/projects/{project.id}/settings")
    method, refresh = page.locator("#p-quality-method"), page.locator("#p-quality-refresh")
    assert (method.input_value(), refresh.input_value()) == ("dawid_skene", "500")
    options = page.locator("#p-quality-method option").evaluate_all("os => os.map(o => o.value)")
    assert options == sorted(METHODS)
    save = page.locator("form[data-method=PATCH] button[type=submit]")
    status = page.locator("form[data-method=PATCH] .form-status")

    method.select_option("mace")
    refresh.fill("0")
    save.click()
    status.filter(has_text="Saved.").wait_for()
    stored = call(live_server, admin, "GET", f"/projects/{project.id}")
    assert (stored["quality_method"], stored["quality_refresh_every"]) == ("mace", 0)

    for bad in ("-1", "20000000"):
        refused = httpx.patch(
            f"{live_server}/api/v1/projects/{project.id}",
            json={"quality_refresh_every": int(bad)},
            headers=manager.headers,
        )
        assert refused.status_code == 422
        problem = refused.json()["errors"][0]
        refresh.fill(bad)
        save.click()
        error = page.locator("#p-quality-refresh-error")
        error.filter(has_text=problem.get("msg") or problem["message"]).wait_for()
        assert refresh.get_attribute("aria-invalid") == "true"
        assert status.inner_text() == "Please correct the marked fields."
    refresh.fill("250")

    page.evaluate(
        "() => { const s = document.querySelector('#p-quality-method');"
        " s.add(new Option('nonsense', 'nonsense')); s.value = 'nonsense'; }"
    )
    save.click()
    error = page.locator("#p-quality-method-error")
    error.wait_for()
    assert error.inner_text() == f"quality_method must be one of {sorted(METHODS)}"
    assert page.locator("#p-quality-refresh-error").count() == 0
    stored = call(live_server, admin, "GET", f"/projects/{project.id}")
    assert (stored["quality_method"], stored["quality_refresh_every"]) == ("mace", 0)
    page.screenshot(path=str(ARTIFACTS / "settings-quality.png"), full_page=True)

    method.select_option("glad")
    save.click()
    status.filter(has_text="Saved.").wait_for()
    stored = call(live_server, admin, "GET", f"/projects/{project.id}")
    assert (stored["quality_method"], stored["quality_refresh_every"]) == ("glad", 250)

    page.goto(f"{live_server}/projects/{project.id}/quality")  # the Recompute default follows
    assert page.locator("#q-method").input_value() == "glad"
    assert (
        "Recomputed automatically after every 250 new annotations"
        in page.locator(".quality-head").inner_text()
    )
