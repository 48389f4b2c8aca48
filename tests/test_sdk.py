"""The Python SDK against a real server on loopback."""

from __future__ import annotations

import pandas as pd
import pytest

from accord import Client
from accord.sdk import AccordAPIError
from tests.conftest import TEXT_SCHEMA, Factory, unique


def test_sdk_round_trip(live_server: str, factory: Factory, tmp_path) -> None:
    admin = factory.user(admin=True)
    ann = factory.user()
    with Client(live_server, admin.token) as client:
        project = client.create_project(unique("sdk"), TEXT_SCHEMA, guidelines="be kind", overlap=1)
        client.set_member(project.name, ann.user.username, "annotator")
        batch = client.import_items(
            project.id, [{"text": "alpha"}, {"data": {"text": "beta"}, "meta": {"k": "v"}}]
        )
        assert (batch.n_items, batch.status) == (2, "completed")
        frame = pd.DataFrame({"text": ["gamma", "delta"], "meta.k": ["w", "x"]})
        assert client.import_dataframe(project.name, frame).n_items == 2
        assert [i.data["text"] for i in client.items(project.id, page_size=3)] == [
            "alpha",
            "beta",
            "gamma",
            "delta",
        ]
        assert client.schema(project.id).guidelines == "be kind"
        v2 = client.publish_schema(project.id, guidelines="be kinder", change_note="tone")
        assert v2.version == 2 and len(client.schema_versions(project.id)) == 2
    with Client(live_server, ann.token) as client:
        done = []
        while (lease := client.next(project.id)) is not None:
            sentiment = "positive" if lease.item.data["text"] in {"alpha", "gamma"} else "negative"
            done.append(
                client.submit(project.id, lease.item.id, {"sentiment": sentiment}, lead_time=1.5)
            )
        assert len(done) == 4
        with pytest.raises(AccordAPIError) as err:
            client.submit(project.id, done[0].item_id, {"sentiment": "positive"})
        assert err.value.status == 409
        revised = client.revise(project.id, done[0].id, {"sentiment": "negative"})
        assert revised.parent_id == done[0].id
        assert len(list(client.annotations(project.id))) == 4
    with Client(live_server, admin.token) as client:
        with pytest.raises(AccordAPIError) as err:
            client.submit(project.id, done[1].item_id, {"sentiment": "great"})
        assert err.value.status in (409, 422)
        table = client.export_dataframe(project.id)
        assert list(table["data.text"]) == ["alpha", "beta", "gamma", "delta"]
        assert list(table["result.sentiment"]) == ["negative", "negative", "positive", "negative"]
        path = client.export(project.id, tmp_path / "out.csv", format="csv")
        assert path.read_text().count("\n") >= 5


def test_sdk_background_import_and_errors(live_server: str, factory: Factory, tmp_path) -> None:
    admin = factory.user(admin=True)
    source = tmp_path / "rows.csv"
    source.write_text("text,meta.source\n" + "".join(f"line {i},web\n" for i in range(500)))
    with Client(live_server, admin.token) as client:
        project = client.create_project(unique("jobs"), TEXT_SCHEMA)
        started = client.start_import(project.id, source)
        assert started.status in ("queued", "running", "finished")
        job = client.wait(started.id, timeout=60, poll=0.05)
        check_id = job.result["duplicates_job_id"]
        assert (job.status, job.result) == (
            "finished",
            {
                "batch_id": job.result["batch_id"],
                "n_items": 500,
                "n_duplicates": 0,
                "duplicates_job_id": check_id,
            },
        )
        check = client.wait(check_id, timeout=60, poll=0.05)
        assert check.status == "finished"
        assert check.result is not None and check.result["redundancy_rate"] == 0.0
        first = next(iter(client.items(project.id, page_size=1)))
        assert (first.data, first.meta) == ({"text": "line 0"}, {"source": "web"})
        bad = tmp_path / "bad.jsonl"
        bad.write_text('{"text": "ok"}\n{"text": 1, \n')
        with pytest.raises(AccordAPIError) as err:
            client.import_file(project.id, bad)
        assert err.value.status == 422
        assert err.value.errors[0]["row"] == 2


def test_sdk_quality_dataframes(live_server: str, factory: Factory) -> None:
    admin = factory.user(admin=True)
    annotators = [factory.user() for _ in range(3)]
    schema = {
        "fields": [{"name": "text", "type": "text"}],
        "controls": [{"name": "s", "type": "choices", "field": "text", "labels": ["a", "b", "c"]}],
    }
    votes = {"one": "aab", "two": "bbb", "three": "aba", "four": "aaa", "five": "abc"}
    with Client(live_server, admin.token) as client:
        project = client.create_project(unique("quality"), schema, overlap=3)
        for a in annotators:
            client.set_member(project.id, a.user.username, "annotator")
        client.import_items(project.id, [{"text": t} for t in votes])
    for k, a in enumerate(annotators):
        with Client(live_server, a.token) as client:
            while (lease := client.next(project.id)) is not None:
                label = votes[lease.item.data["text"]][k]
                client.submit(project.id, lease.item.id, {"s": label})
    with Client(live_server, admin.token) as client:
        agreement = client.quality.agreement(project.id, n_boot=50)
        assert list(agreement.index) == [
            "percent_agreement",
            "fleiss_kappa",
            "krippendorff_alpha",
            "gwet_ac1",
        ]
        assert agreement.loc["percent_agreement", "value"] == pytest.approx(8 / 15)
        consensus = client.quality.consensus(project.id, method="majority_vote")
        texts = {i.id: i.data["text"] for i in client.items(project.id)}
        assert {texts[i]: label for i, label in consensus["label"].items()} == {
            "one": "a",
            "two": "b",
            "three": "a",
            "four": "a",
            "five": "a",  # a three-way tie: the label given most often overall
        }
        assert (consensus["n_labels"] == 3).all()

        runs = client.quality.run(project.id, "majority_vote")
        assert runs.loc["s", "method"] == "majority_vote"
        assert runs.loc["s", ["n_items", "n_labels", "n_annotators"]].tolist() == [5, 15, 3]
        skills = client.quality.skills(project.id)
        names = [a.user.username for a in annotators]
        assert skills.loc[names, "agreement"].tolist() == pytest.approx([1.0, 0.6, 0.6])
        assert (skills["n_labels"] == 5).all()
        suspects = client.quality.suspects(project.id)
        # a consensus under 0.7 is weak: the three-way tie first, then the two-to-one splits
        assert [texts[i] for i in suspects["item_id"]] == ["five", "one", "three"]
        assert suspects["label"].tolist() == ["a", "a", "a"]
        assert suspects["score"].tolist() == pytest.approx([2 / 3, 1 / 3, 1 / 3])
        five = int(suspects.loc[0, "item_id"])
        client.quality.resolve_suspect(project.id, five, "dismissed")
        assert [texts[i] for i in client.quality.suspects(project.id)["item_id"]] == [
            "one",
            "three",
        ]
        assert client.quality.suspects(project.id, status="dismissed")["item_id"].tolist() == [five]


def test_sdk_gold_items_and_accuracy(live_server: str, factory: Factory) -> None:
    admin, annotator = factory.user(admin=True), factory.user()
    with Client(live_server, admin.token) as client:
        project = client.create_project(unique("gold"), TEXT_SCHEMA)
        client.update_project(project.id, gold_rate=0.5)
        client.set_member(project.id, annotator.user.username, "annotator")
        client.import_items(project.id, [{"text": f"line {k}"} for k in range(6)])
        ids = {i.data["text"]: i.id for i in client.items(project.id)}
        for k in range(3):
            client.set_gold(project.id, ids[f"line {k}"], {"sentiment": "positive"})
        client.set_gold(project.id, ids["line 2"], {"sentiment": "negative"})
        assert client.gold(project.id) == {
            ids["line 0"]: {"sentiment": "positive"},
            ids["line 1"]: {"sentiment": "positive"},
            ids["line 2"]: {"sentiment": "negative"},
        }
    with Client(live_server, annotator.token) as client:
        served = []
        while (lease := client.next(project.id)) is not None:
            served.append(lease.item.id)
            client.submit(project.id, lease.item.id, {"sentiment": "positive"})
        own = client.quality.gold_accuracy(project.id)
    gold_seen = [i for i in served if i in (ids["line 0"], ids["line 1"], ids["line 2"])]
    right = sum(i != ids["line 2"] for i in gold_seen)
    if gold_seen:
        assert own.loc[annotator.user.username, "n_answers"] == len(gold_seen)
        assert own.loc[annotator.user.username, "n_correct"] == right
    else:
        assert own.empty
    with Client(live_server, admin.token) as client:
        client.unset_gold(project.id, ids["line 0"])
        assert set(client.gold(project.id)) == {ids["line 1"], ids["line 2"]}
