"""Quality in the platform on real crowd labels (zheng_dog): agreement equals the independent
references, and the stored consensus equals the library's result on the same labels."""

from __future__ import annotations

import krippendorff
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from statsmodels.stats.inter_rater import fleiss_kappa

from accord.db.models import Project
from accord.quality import DawidSkene, MajorityVote, label_agreement, label_agreement_ci
from tests.conftest import Actor


def test_agreement_equals_independent_references(
    client: TestClient, labeled: tuple[Project, Actor, pd.DataFrame]
) -> None:
    project, reviewer, frame = labeled
    report = client.get(
        f"/api/v1/projects/{project.id}/quality/agreement",
        params={"n_boot": 200},
        headers=reviewer.headers,
    ).json()
    assert (report["control"], report["n_items"], report["n_labels"]) == ("breed", 60, len(frame))
    overall = {row["statistic"]: row for row in report["overall"]}
    matrix = frame.pivot(index="annotator", columns="item", values="label")
    codes = {v: i for i, v in enumerate(sorted(frame["label"].unique()))}
    reliability = matrix.apply(lambda col: col.map(codes)).to_numpy(dtype=float)
    expected_alpha = krippendorff.alpha(
        reliability_data=reliability, level_of_measurement="nominal"
    )
    assert overall["krippendorff_alpha"]["value"] == pytest.approx(expected_alpha, abs=1e-9)
    by_item = frame.assign(code=frame["label"].map(codes)).groupby("item")["code"].apply(list)
    counts = np.zeros((len(by_item), len(codes)))
    for row, item_codes in enumerate(by_item):
        np.add.at(counts[row], item_codes, 1)
    assert overall["fleiss_kappa"]["value"] == pytest.approx(fleiss_kappa(counts), abs=1e-9)
    for row in overall.values():
        assert row["low"] <= row["value"] <= row["high"]
    assert {r["annotator"] for r in report["per_annotator"]} == set(frame["annotator"])
    per_label = pd.DataFrame(report["per_label"]).set_index("label")
    expected_labels = label_agreement(frame).join(label_agreement_ci(frame, n_boot=200))
    assert np.allclose(per_label[expected_labels.columns], expected_labels, equal_nan=True)
    per_annotator = pd.DataFrame(report["per_annotator"]).set_index("annotator")
    assert (per_annotator["with_consensus_low"] <= per_annotator["with_consensus"]).all()
    assert (per_annotator["with_consensus"] <= per_annotator["with_consensus_high"]).all()


def test_consensus_is_stored_with_its_method_and_matches_the_library(
    client: TestClient, labeled: tuple[Project, Actor, pd.DataFrame], admin: Actor
) -> None:
    project, reviewer, frame = labeled
    for method, model in (("dawid_skene", DawidSkene()), ("majority_vote", MajorityVote())):
        done = client.post(
            f"/api/v1/projects/{project.id}/quality/consensus",
            json={"method": method},
            headers=admin.headers,
        ).json()
        assert (done["n_items"], done["method"]) == (60, method)
        rows = client.get(
            f"/api/v1/projects/{project.id}/quality/consensus", headers=reviewer.headers
        ).json()
        expected = model.fit(frame)
        assert {r["item_id"]: r["label"] for r in rows} == expected.labels_.to_dict()
        confidence = expected.probas_.max(axis=1)
        assert np.allclose(
            [r["confidence"] for r in rows], confidence.loc[[r["item_id"] for r in rows]]
        )
        assert {r["method"] for r in rows} == {method}
    refused = client.post(
        f"/api/v1/projects/{project.id}/quality/consensus",
        json={"method": "best_guess"},
        headers=admin.headers,
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "method"
    forbidden = client.post(
        f"/api/v1/projects/{project.id}/quality/consensus",
        json={"method": "wawa"},
        headers=reviewer.headers,
    )
    assert forbidden.status_code == 403
