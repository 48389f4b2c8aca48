"""Real crowd data sets with gold answers, loaded once per test session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

DATASETS = Path(__file__).resolve().parents[3] / "shared" / "datasets"
CROWD = DATASETS / "crowd"


def load_crowd(name: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """(raw frame with worker/task/label, Accord frame with item/annotator/label, truth)."""
    raw = pd.read_csv(CROWD / name / "labels.csv")
    frame = raw.rename(columns={"task": "item", "worker": "annotator"})
    truth = pd.read_csv(CROWD / name / "truth.csv").set_index("task")["label"]
    return raw, frame, truth


@pytest.fixture(scope="session")
def zheng_dog() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    return load_crowd("zheng_dog")


@pytest.fixture(scope="session")
def snow_rte() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    return load_crowd("snow_rte")


@pytest.fixture(scope="session")
def zheng_product() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    return load_crowd("zheng_product")


@pytest.fixture(scope="session")
def gal_adult2() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    return load_crowd("gal_adult2")


def accuracy(predicted: pd.Series, truth: pd.Series) -> float:
    shared = truth.index.intersection(predicted.index)
    return float((predicted.loc[shared].to_numpy() == truth.loc[shared].to_numpy()).mean())
