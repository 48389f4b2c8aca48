"""What the structured aggregators share: checking input columns and weighting annotators."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from accord.quality.data import FloatArray

Skills = Mapping[Any, float] | pd.Series | None


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} frame needs columns {missing}")


def skill_weights(data: pd.DataFrame, skills: Skills) -> FloatArray:
    """Each row's vote weight: its annotator's skill (0 for annotators ``skills`` does not
    name), or 1 for everyone when no skills are given."""
    if skills is None:
        return np.ones(len(data))
    skill = pd.Series(skills, dtype=np.float64)
    return np.asarray(data["annotator"].map(skill).fillna(0.0), dtype=np.float64)


def weighted_votes(data: pd.DataFrame, skills: Skills) -> tuple[pd.DataFrame, pd.Series]:
    """The rows with their weight in ``_w``, and per item the total weight of its annotators
    (each annotator counted once however many regions they drew)."""
    frame = data.assign(_w=skill_weights(data, skills))
    voters = frame.drop_duplicates(["item", "annotator"]).groupby("item", sort=False)["_w"].sum()
    return frame, voters
