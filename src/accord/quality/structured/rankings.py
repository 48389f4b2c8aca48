"""Rankings and pairwise preferences: Bradley–Terry scores and Kendall's tau.

Bradley–Terry is fitted with Hunter's (2004) MM iteration; every update is two ``np.bincount``
sums over the comparisons, so many thousands of comparisons take milliseconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from accord.quality.data import FloatArray


class BradleyTerry:
    """``P(i beats j) = s_i / (s_i + s_j)`` fitted to pairwise outcomes.

    Input columns ``winner, loser`` (optionally ``weight``; a tie can be entered as two rows of
    weight 0.5 with the roles swapped). ``prior`` adds, for every item, that many virtual wins
    and losses against a reference of strength 1, which keeps the estimate finite for items that
    never lost or never won and anchors the scale. Results: ``scores_`` (log-strength, the
    reference at 0, higher is better) and ``ranking_`` (items best first).
    """

    def __init__(self, prior: float = 0.1, max_iter: int = 10_000, tol: float = 1e-10) -> None:
        self.prior = prior
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, comparisons: pd.DataFrame) -> BradleyTerry:
        missing = [c for c in ("winner", "loser") if c not in comparisons.columns]
        if missing:
            raise ValueError(f"comparisons need columns {missing}")
        if len(comparisons) == 0:
            raise ValueError("no comparisons")
        if self.prior < 0:
            raise ValueError("prior must be non-negative")
        both = pd.concat([comparisons["winner"], comparisons["loser"]], ignore_index=True)
        codes, items = pd.factorize(both, sort=True)
        n = len(comparisons)
        win, lose = codes[:n].astype(np.int64), codes[n:].astype(np.int64)
        if (win == lose).any():
            raise ValueError("an item cannot be compared with itself")
        w = (
            comparisons["weight"].to_numpy(np.float64)
            if "weight" in comparisons.columns
            else np.ones(n)
        )
        m = len(items)
        wins = np.bincount(win, w, m).astype(np.float64) + self.prior
        if (wins <= 0).any() and self.prior == 0:
            raise ValueError("with prior=0 every item must win at least once")
        strength = np.ones(m)
        for iteration in range(1, self.max_iter + 1):
            pair = w / (strength[win] + strength[lose])
            denom = (np.bincount(win, pair, m) + np.bincount(lose, pair, m)).astype(np.float64)
            denom += 2.0 * self.prior / (strength + 1.0)
            new = wins / denom
            if self.prior == 0:
                new /= np.exp(np.log(new).mean())
            change = np.abs(np.log(new) - np.log(strength)).max()
            strength = new
            self.n_iter_ = iteration
            if change < self.tol:
                break
        index = pd.Index(items, name="item")
        self.scores_ = pd.Series(np.log(strength), index=index, name="score")
        self.ranking_ = pd.Index(self.scores_.sort_values(ascending=False, kind="stable").index)
        return self

    def fit_predict(self, comparisons: pd.DataFrame) -> pd.Series:
        return self.fit(comparisons).scores_

    def probability(self, first: Any, second: Any) -> float:
        """Fitted probability that ``first`` beats ``second``."""
        d = float(self.scores_.loc[first] - self.scores_.loc[second])
        return float(1.0 / (1.0 + np.exp(-d)))


def pairs_from_rankings(rankings: pd.DataFrame) -> pd.DataFrame:
    """All ``winner, loser`` pairs implied by ranked lists (columns ``annotator, item, rank``;
    rank 1 is best; equal ranks give no pair)."""
    missing = [c for c in ("annotator", "item", "rank") if c not in rankings.columns]
    if missing:
        raise ValueError(f"rankings need columns {missing}")
    left = rankings[["annotator", "item", "rank"]]
    joined = left.merge(left, on="annotator", suffixes=("_w", "_l"))
    better = joined[joined["rank_w"] < joined["rank_l"]]
    return pd.DataFrame(
        {
            "winner": better["item_w"].to_numpy(),
            "loser": better["item_l"].to_numpy(),
            "annotator": better["annotator"].to_numpy(),
        }
    )


def kendall_tau(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Kendall's tau-b ``(C - D) / sqrt((n0 - T_x)(n0 - T_y))``, ties handled as scipy does.

    Pairs are compared in blocks of rows, so memory stays bounded for long lists.
    """
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError("x and y must be one-dimensional and of equal length")
    n = a.shape[0]
    if n < 2:
        return float("nan")
    score = 0.0
    tied_x = 0.0
    tied_y = 0.0
    block = max(1, 2_000_000 // n)
    for start in range(0, n, block):
        rows = slice(start, min(n, start + block))
        dx = np.sign(a[rows, None] - a[None, :])
        dy = np.sign(b[rows, None] - b[None, :])
        upper = np.arange(start, min(n, start + block))[:, None] < np.arange(n)[None, :]
        score += float((dx * dy)[upper].sum())
        tied_x += float((dx == 0)[upper].sum())
        tied_y += float((dy == 0)[upper].sum())
    pairs = n * (n - 1) / 2.0
    denominator = np.sqrt((pairs - tied_x) * (pairs - tied_y))
    return float(score / denominator) if denominator > 0 else float("nan")


def pairwise_kendall_tau(rankings: pd.DataFrame, *, min_overlap: int = 2) -> pd.DataFrame:
    """Annotator × annotator Kendall tau-b on the items both ranked (NaN when fewer than
    ``min_overlap`` shared items). Input columns ``annotator, item, rank``."""
    wide = rankings.pivot_table(index="item", columns="annotator", values="rank", aggfunc="first")
    names = list(wide.columns)
    out = np.full((len(names), len(names)), np.nan)
    values: FloatArray = wide.to_numpy(np.float64)
    for i in range(len(names)):
        for j in range(i, len(names)):
            both = ~np.isnan(values[:, i]) & ~np.isnan(values[:, j])
            if both.sum() >= max(min_overlap, 2):
                out[i, j] = out[j, i] = kendall_tau(values[both, i], values[both, j])
    index = pd.Index(names, name="annotator")
    return pd.DataFrame(out, index=index, columns=index.rename("other"))
