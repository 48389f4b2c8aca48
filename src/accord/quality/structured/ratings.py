"""Numeric ratings: a robust centre per item with a confidence interval.

Rows are sorted once by (item, rating); every statistic is then read from positions within each
item's block, so there is no per-item Python loop.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from accord.quality.data import FloatArray, IntArray

Method = Literal["median", "mean", "trimmed_mean"]


class RatingAggregator:
    """Per-item centre of numeric ratings with a ``confidence`` interval.

    * ``median`` (default): the sample median; distribution-free interval between order
      statistics ``x_(j)`` and ``x_(n-j+1)``, ``j`` the largest rank with
      ``P(Binomial(n, 1/2) < j) <= (1 - confidence) / 2`` (with fewer than about six ratings
      this is the whole range and covers more than asked).
    * ``mean``: Student-t interval ``mean ± t_{n-1} s / sqrt(n)``.
    * ``trimmed_mean``: the ``trim`` share is cut from each end; Tukey–McLaughlin interval
      ``± t_{h-1} s_w / ((1 - 2 trim) sqrt(n))`` with ``s_w`` the winsorised standard deviation
      and ``h`` the number of ratings kept.

    Input columns ``item, annotator, rating``. Result ``ratings_``: ``estimate, low, high, n``
    per item (NaN bounds where one rating cannot give an interval).
    """

    def __init__(
        self, method: Method = "median", *, trim: float = 0.2, confidence: float = 0.95
    ) -> None:
        self.method = method
        self.trim = trim
        self.confidence = confidence

    def fit(self, data: pd.DataFrame) -> RatingAggregator:
        missing = [c for c in ("item", "rating") if c not in data.columns]
        if missing:
            raise ValueError(f"rating frame needs columns {missing}")
        if self.method not in ("median", "mean", "trimmed_mean"):
            raise ValueError("method must be 'median', 'mean' or 'trimmed_mean'")
        if not 0.0 <= self.trim < 0.5:
            raise ValueError("trim must lie in [0, 0.5)")
        if not 0.0 < self.confidence < 1.0:
            raise ValueError("confidence must lie strictly between 0 and 1")
        rated = data.dropna(subset=["rating"])
        if len(rated) == 0:
            raise ValueError("rating data is empty")
        codes, items = pd.factorize(rated["item"], sort=True)
        values = rated["rating"].to_numpy(np.float64)
        order = np.lexsort((values, codes))
        code_sorted = np.asarray(codes[order], dtype=np.int64)
        x = values[order]
        n = np.bincount(code_sorted, minlength=len(items))
        start = np.concatenate([[0], np.cumsum(n)[:-1]])
        rank = np.arange(x.shape[0]) - start[code_sorted]  # 0-based position within the item
        alpha = 1.0 - self.confidence
        if self.method == "median":
            estimate, low, high = self._median(x, n, start, alpha)
        elif self.method == "mean":
            estimate, low, high = self._mean(x, code_sorted, n, alpha)
        else:
            estimate, low, high = self._trimmed(x, code_sorted, n, start, rank, alpha)
        self.ratings_ = pd.DataFrame(
            {"estimate": estimate, "low": low, "high": high, "n": n},
            index=pd.Index(items, name="item"),
        )
        return self

    def fit_predict(self, data: pd.DataFrame) -> pd.Series:
        return self.fit(data).ratings_["estimate"]

    @staticmethod
    def _median(
        x: FloatArray, n: IntArray, start: IntArray, alpha: float
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        median = 0.5 * (x[start + (n - 1) // 2] + x[start + n // 2])
        j = np.maximum(stats.binom.ppf(alpha / 2.0, n, 0.5).astype(np.int64), 1)
        j = np.minimum(j, (n + 1) // 2)
        low = x[start + j - 1]
        high = x[start + n - j]
        single = n < 2
        return median, np.where(single, np.nan, low), np.where(single, np.nan, high)

    @staticmethod
    def _mean(
        x: FloatArray, code: IntArray, n: IntArray, alpha: float
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        m = len(n)
        mean = np.bincount(code, x, m) / n
        dev = x - mean[code]
        with np.errstate(divide="ignore", invalid="ignore"):
            sd = np.sqrt(np.bincount(code, dev * dev, m) / (n - 1))
            half = stats.t.ppf(1.0 - alpha / 2.0, n - 1) * sd / np.sqrt(n)
        half = np.where(n > 1, half, np.nan)
        return mean, mean - half, mean + half

    def _trimmed(
        self,
        x: FloatArray,
        code: IntArray,
        n: IntArray,
        start: IntArray,
        rank: IntArray,
        alpha: float,
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        m = len(n)
        g = np.floor(self.trim * n).astype(np.int64)
        h = n - 2 * g
        gr = g[code]
        kept = (rank >= gr) & (rank < n[code] - gr)
        trimmed = np.bincount(code, x * kept, m) / h
        lowest = x[start + g]
        highest = x[start + n - 1 - g]
        wins = np.clip(x, lowest[code], highest[code])
        wmean = np.bincount(code, wins, m) / n
        dev = wins - wmean[code]
        with np.errstate(divide="ignore", invalid="ignore"):
            sw = np.sqrt(np.bincount(code, dev * dev, m) / (n - 1))
            se = sw / ((1.0 - 2.0 * self.trim) * np.sqrt(n))
            half = stats.t.ppf(1.0 - alpha / 2.0, h - 1) * se
        half = np.where(h > 1, half, np.nan)
        return trimmed, trimmed - half, trimmed + half
