"""Weak supervision in the browser, on real SST-2 sentences: a manager adds two keyword
functions with the page's form (a broken regular expression is refused with the server's
reason on the field), runs the label model and sees the summary table with exactly the
coverage figures the API reports, reviews the probabilistic labels, computes embeddings and
finds "More like this" on an item page."""

from __future__ import annotations

from typing import Any

import httpx
import pandas as pd
from sqlalchemy import select

from accord.core import gold as gold_ops
from accord.db.engine import Database
from accord.db.models import Item, Project, User
from tests.api.helpers import add_items
from tests.browser.conftest import ARTIFACTS, log_in
from tests.conftest import DATASETS, Actor, Factory, sentiment_schema

SST2 = DATASETS / "text" / "sst2.csv"
N_SENTENCES = 600
N_GOLD = 60


def call(base: str, actor: Actor, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(method, f"{base}/api/v1{path}", headers=actor.headers, **kwargs)
    response.raise_for_status()
    return response.json() if response.content else None


def pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def cells(row: Any) -> list[str]:
    return [c.strip() for c in row.locator("th, td").all_inner_texts()]


def test_a_manager_adds_functions_runs_them_and_reads_the_summary(
    page: Any, live_server: str, db: Database, factory: Factory, admin: Actor
) -> None:
    manager, annotator = factory.user(), factory.user()
    project = factory.project(
        admin,
        schema=sentiment_schema("negative", "positive"),
        members={"manager": manager, "annotator": annotator},
    )
    sst2 = pd.read_csv(SST2, keep_default_na=False).head(N_SENTENCES)
    add_items(db, project, admin.user, list(sst2["text"]))
    with db.transaction() as session:
        p, owner = session.get(Project, project.id), session.get(User, admin.user.id)
        assert p is not None and owner is not None
        rows = session.execute(
            select(Item.id, Item.data).where(Item.project_id == p.id).order_by(Item.id)
        ).all()
        truth = dict(zip(sst2["text"], sst2["label"], strict=True))
        for item_id, data in rows[-N_GOLD:]:
            gold_ops.set_gold(session, p, item_id, {"sentiment": truth[data["text"]]}, owner)

    log_in(page, live_server, manager)
    page.goto(f"{live_server}/projects/{project.id}")
    page.get_by_role("link", name="Weak supervision").click()
    page.wait_for_url(f"{live_server}/projects/{project.id}/weak-supervision")
    assert page.locator("#ws-summary .empty").inner_text() == (
        "No run yet: add functions and press Run."
    )

    # A broken regular expression: the server's reason, on the pattern field.
    page.fill("#lf-name", "broken")
    page.select_option("#lf-kind", "regex")
    page.select_option("#lf-label", "negative")
    page.fill("#lf-pattern", "(unclosed")
    page.get_by_role("button", name="Add function").click()
    error = page.locator(".ws-form-status.error")
    error.wait_for()
    assert "config.pattern is not a valid regular expression" in error.inner_text()
    assert page.locator("#lf-pattern").get_attribute("aria-invalid") == "true"
    assert call(live_server, manager, "GET", f"/projects/{project.id}/labeling-functions") == []

    for name, label, words in (
        ("praise", "positive", "great, best, good\nwonderful, beautiful"),
        ("scorn", "negative", "bad, worst, boring\ndull, mess"),
    ):
        page.fill("#lf-name", name)
        page.select_option("#lf-kind", "keywords")
        page.select_option("#lf-label", label)
        page.fill("#lf-keywords", words)
        page.get_by_role("button", name="Add function").click()
        page.locator(".ws-form-status.ok", has_text=f"Added {name}.").wait_for()
    listed = call(live_server, manager, "GET", f"/projects/{project.id}/labeling-functions")
    assert [(f["name"], f["label"], f["config"]["keywords"]) for f in listed] == [
        ("praise", "positive", ["great", "best", "good", "wonderful", "beautiful"]),
        ("scorn", "negative", ["bad", "worst", "boring", "dull", "mess"]),
    ]
    table = page.locator(".ws-functions-table tbody tr")
    assert [cells(table.nth(i))[:4] for i in range(table.count())] == [
        ["praise", "keywords", "positive", "great, best, good, wonderful, beautiful"],
        ["scorn", "keywords", "negative", "bad, worst, boring, dull, mess"],
    ]

    page.select_option("#ws-method", "dawid_skene")
    page.get_by_role("button", name="Run", exact=True).click()
    done = page.locator(".ws-run-status.ok")
    done.wait_for(timeout=120_000)
    summary = call(
        live_server, manager, "GET", f"/projects/{project.id}/labeling-functions/summary"
    )
    (report,) = summary["result"]["controls"]
    assert done.inner_text() == (
        f"Finished · {summary['result']['n_predictions']:,} probabilistic label(s) stored · "
        f"sentiment: {pct(report['coverage'])} of {N_SENTENCES} items have a vote."
    )
    assert page.locator(".ws-coverage").inner_text() == pct(report["coverage"])
    assert page.locator(".ws-covered").inner_text() == f"{report['n_covered']} / {N_SENTENCES}"
    assert 0 < report["n_covered"] < N_SENTENCES
    assert page.locator(".ws-gold-accuracy").inner_text() == pct(
        report["label_model"]["gold"]["accuracy"]
    )
    rows = page.locator(".ws-summary-table tbody tr")
    assert [cells(rows.nth(i)) for i in range(rows.count())] == [
        [
            r["name"],
            ", ".join(r["polarity"]),
            pct(r["coverage"]),
            pct(r["overlap"]),
            pct(r["conflict"]),
            pct(r["accuracy"]),
            str(r["n_gold"]),
            "—",
            "—",
        ]
        for r in report["summary"]
    ]
    assert [r["name"] for r in report["summary"]] == ["praise", "scorn"]
    assert all(r["coverage"] > 0 and r["n_gold"] > 0 for r in report["summary"])

    # The review listing shows the stored labels, most confident first.
    review = call(
        live_server, manager, "GET", f"/projects/{project.id}/labeling-functions/predictions"
    )
    shown = page.locator(".ws-review-table tbody tr")
    assert shown.count() == min(25, review["total"])
    first = review["rows"][0]
    assert cells(shown.first)[:4] == [
        f"#{first['item_id']}",
        first["preview"],
        first["label"],
        f"{first['score']:.3f}",
    ]

    page.screenshot(path=str(ARTIFACTS / "page-weak-supervision.png"), full_page=True)

    # Editing a function: deactivate "scorn" from its row.
    page.get_by_role("button", name="Edit scorn").click()
    assert page.locator("#lf-keywords").input_value() == "bad\nworst\nboring\ndull\nmess"
    page.locator("#lf-active").uncheck()
    page.get_by_role("button", name="Save changes").click()
    page.locator(".ws-form-status.ok", has_text="Saved scorn.").wait_for()
    scorn = next(
        f
        for f in call(live_server, manager, "GET", f"/projects/{project.id}/labeling-functions")
        if f["name"] == "scorn"
    )
    assert scorn["active"] is False

    # Embeddings from the page, then "More like this" on an item page.
    page.get_by_role("button", name="Compute embeddings").click()
    page.locator(".ws-embed-status.ok").wait_for(timeout=120_000)
    assert cells(page.locator(".ws-embedders tbody tr").first)[:3] == [
        "tfidf-svd-128",
        str(N_SENTENCES),
        "128",
    ]
    item_id = first["item_id"]
    similar = call(live_server, manager, "GET", f"/projects/{project.id}/items/{item_id}/similar")
    page.goto(f"{live_server}/projects/{project.id}/items/{item_id}")
    listed_similar = page.locator(".similar-items li")
    assert listed_similar.count() == 10
    assert [int(x) for x in listed_similar.evaluate_all("ls => ls.map(l => l.dataset.item)")] == [
        s["item_id"] for s in similar["similar"]
    ]
    assert page.locator(".similar-items .similarity").first.inner_text() == (
        f"{similar['similar'][0]['similarity']:.3f}"
    )

    # Annotators cannot open the page.
    log_in_annotator = page.context.browser.new_context()
    other = log_in_annotator.new_page()
    log_in(other, live_server, annotator)
    response = other.goto(f"{live_server}/projects/{project.id}/weak-supervision")
    assert response is not None and response.status == 403
    log_in_annotator.close()
