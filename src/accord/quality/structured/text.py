"""Free text: edit distance, CER/WER, and a ROVER-style word vote across transcriptions.

The Levenshtein table is filled one row at a time with numpy: within a row the insertion
recurrence ``D[j] = min(D[j], D[j-1] + 1)`` is a running minimum of ``D[j] - j``, so no Python
loop runs over the columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from accord.quality.data import IntArray
from accord.quality.structured.frames import require_columns, skill_weights

_DELETE, _INSERT, _MATCH = 0, 1, 2


def _codes(a: Sequence[Any], b: Sequence[Any]) -> tuple[IntArray, IntArray]:
    vocab: dict[Any, int] = {}
    x = np.array([vocab.setdefault(t, len(vocab)) for t in a], dtype=np.int64)
    y = np.array([vocab.setdefault(t, len(vocab)) for t in b], dtype=np.int64)
    return x, y


def _table(x: IntArray, y: IntArray) -> np.ndarray[Any, np.dtype[np.int64]]:
    n, m = x.shape[0], y.shape[0]
    table = np.empty((n + 1, m + 1), dtype=np.int64)
    table[0] = np.arange(m + 1)
    j = np.arange(m + 1)
    for i in range(1, n + 1):
        prev = table[i - 1]
        row = np.empty(m + 1, dtype=np.int64)
        row[0] = i
        row[1:] = np.minimum(prev[1:] + 1, prev[:-1] + (y != x[i - 1]))
        table[i] = np.minimum.accumulate(row - j) + j
    return table


def edit_distance(reference: Sequence[Any], hypothesis: Sequence[Any]) -> int:
    """Levenshtein distance (unit cost insert, delete, substitute) between two token sequences."""
    x, y = _codes(reference, hypothesis)
    if x.shape[0] == 0 or y.shape[0] == 0:
        return int(max(x.shape[0], y.shape[0]))
    return int(_table(x, y)[-1, -1])


def _rate(reference: str | Sequence[str], hypothesis: str | Sequence[str], split: bool) -> float:
    refs = [reference] if isinstance(reference, str) else list(reference)
    hyps = [hypothesis] if isinstance(hypothesis, str) else list(hypothesis)
    if len(refs) != len(hyps):
        raise ValueError("reference and hypothesis lists must have the same length")
    edits = 0
    length = 0
    for r, h in zip(refs, hyps, strict=True):
        r_tokens = r.split() if split else list(r)
        h_tokens = h.split() if split else list(h)
        edits += edit_distance(r_tokens, h_tokens)
        length += len(r_tokens)
    if length == 0:
        raise ValueError("the reference is empty")
    return edits / length


def cer(reference: str | Sequence[str], hypothesis: str | Sequence[str]) -> float:
    """Character error rate: character edits over reference characters (summed over a list)."""
    return _rate(reference, hypothesis, split=False)


def wer(reference: str | Sequence[str], hypothesis: str | Sequence[str]) -> float:
    """Word error rate: edits over reference words, words split on whitespace."""
    return _rate(reference, hypothesis, split=True)


def align(reference: Sequence[Any], hypothesis: Sequence[Any]) -> list[tuple[int, int]]:
    """Minimal-edit alignment as ``(i, j)`` pairs; ``-1`` marks a gap on that side."""
    x, y = _codes(reference, hypothesis)
    n, m = x.shape[0], y.shape[0]
    if n == 0 or m == 0:
        return [(i, -1) for i in range(n)] + [(-1, j) for j in range(m)]
    table = _table(x, y)
    pairs: list[tuple[int, int]] = []
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and table[i, j] == table[i - 1, j - 1] + (x[i - 1] != y[j - 1]):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i > 0 and table[i, j] == table[i - 1, j] + 1:
            pairs.append((i - 1, -1))
            i -= 1
        else:
            pairs.append((-1, j - 1))
            j -= 1
    return pairs[::-1]


def rover(texts: Sequence[str], weights: Sequence[float] | None = None) -> str:
    """One consensus transcription from several, by word alignment and weighted vote.

    The backbone is the transcription with the smallest weighted word edit distance to the
    others. Every other one is aligned to it; at each backbone word the candidates (including
    "nothing", for a deletion) are voted with the weights, and words inserted between two
    backbone words are kept when the same insertion has more than half the total weight.
    Exact ties go to the backbone's word.
    """
    if not texts:
        raise ValueError("no texts to combine")
    w = np.ones(len(texts)) if weights is None else np.asarray(weights, dtype=np.float64)
    tokens = [t.split() for t in texts]
    n = len(tokens)
    if n == 1:
        return " ".join(tokens[0])
    dist = np.zeros((n, n))
    for a in range(n):
        for b in range(a + 1, n):
            dist[a, b] = dist[b, a] = edit_distance(tokens[a], tokens[b])
    backbone_idx = int(np.argmin(dist @ w))
    backbone = tokens[backbone_idx]
    slot_votes: list[dict[str, float]] = [{word: w[backbone_idx]} for word in backbone]
    gap_votes: list[dict[tuple[str, ...], float]] = [{} for _ in range(len(backbone) + 1)]
    for h, hyp in enumerate(tokens):
        if h == backbone_idx:
            continue
        inserted: list[list[str]] = [[] for _ in range(len(backbone) + 1)]
        position = 0
        for i, j in align(backbone, hyp):
            if i >= 0:
                word = hyp[j] if j >= 0 else ""
                slot_votes[i][word] = slot_votes[i].get(word, 0.0) + w[h]
                position = i + 1
            else:
                inserted[position].append(hyp[j])
        for g, words in enumerate(inserted):
            if words:
                key = tuple(words)
                gap_votes[g][key] = gap_votes[g].get(key, 0.0) + w[h]
    total = float(w.sum())
    out: list[str] = []
    for g in range(len(backbone) + 1):
        if gap_votes[g]:
            best, score = max(gap_votes[g].items(), key=lambda kv: kv[1])
            if score > total / 2:
                out.extend(best)
        if g < len(backbone):
            votes = slot_votes[g]
            top = max(votes.values())
            winner = (
                backbone[g]
                if votes.get(backbone[g], 0.0) >= top
                else max(votes, key=votes.__getitem__)
            )
            if winner:
                out.append(winner)
    return " ".join(out)


class TextAggregator:
    """ROVER-style consensus per item (see :func:`rover`).

    Input columns ``item, annotator, text``; ``skills`` maps annotator to vote weight (default 1).
    Result ``texts_``: Series item -> consensus text.
    """

    def __init__(self, skills: Mapping[Any, float] | pd.Series | None = None) -> None:
        self.skills = skills

    def fit(self, data: pd.DataFrame) -> TextAggregator:
        require_columns(data, ("item", "annotator", "text"), "text")
        if len(data) == 0:
            raise ValueError("text data is empty")
        frame = data.assign(
            _w=skill_weights(data, self.skills), text=data["text"].fillna("").astype(str)
        )
        result = {
            item: rover(group["text"].tolist(), group["_w"].tolist())
            for item, group in frame.groupby("item", sort=True)
        }
        self.texts_ = pd.Series(result, name="text").rename_axis("item")
        return self

    def fit_predict(self, data: pd.DataFrame) -> pd.Series:
        return self.fit(data).texts_
