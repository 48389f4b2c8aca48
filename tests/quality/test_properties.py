"""Property tests: results must not depend on row order or on the names of items/annotators."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.quality import (
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    Wawa,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    percent_agreement,
)

label_rows = st.lists(
    st.tuples(st.integers(0, 7), st.integers(0, 4), st.integers(0, 2)),
    min_size=2,
    max_size=40,
    unique_by=lambda r: (r[0], r[1]),
)


def to_frame(rows: list[tuple[int, int, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["item", "annotator", "label"])


@settings(max_examples=40, deadline=None)
@given(label_rows, st.randoms(use_true_random=False))
def test_row_order_and_renaming_do_not_matter(rows: list[tuple[int, int, int]], rnd) -> None:  # type: ignore[no-untyped-def]
    data = to_frame(rows)
    shuffled = data.sample(frac=1.0, random_state=rnd.randint(0, 10_000)).reset_index(drop=True)
    items = {i: f"item-{(i * 5 + 3) % 8}" for i in range(8)}
    renamed = shuffled.assign(
        item=shuffled["item"].map(items), annotator=shuffled["annotator"].map(lambda a: f"w{9 - a}")
    )
    for make in (lambda: MajorityVote(tie_break="first"), Wawa, DawidSkene, OneCoinDawidSkene):
        a = make().fit(data).probas_
        b = make().fit(renamed).probas_
        b = b.rename(index={v: k for k, v in items.items()}).loc[a.index]
        assert np.allclose(a.to_numpy(), b.to_numpy(), atol=1e-6)
        assert np.allclose(a.sum(axis=1), 1.0)


@settings(max_examples=40, deadline=None)
@given(label_rows)
def test_agreement_is_invariant_to_row_order(rows: list[tuple[int, int, int]]) -> None:
    data = to_frame(rows)
    if data.groupby("item").size().max() < 2:
        return
    reversed_rows = data.iloc[::-1]
    for fn in (percent_agreement, fleiss_kappa, gwet_ac1):
        first, second = fn(data), fn(reversed_rows)
        assert (np.isnan(first) and np.isnan(second)) or first == second
    for level in ("nominal", "ordinal", "interval"):
        a, b = krippendorff_alpha(data, level), krippendorff_alpha(reversed_rows, level)
        assert (np.isnan(a) and np.isnan(b)) or abs(a - b) < 1e-12


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(1, 5), min_size=2, max_size=30),
    st.integers(2, 6),
)
def test_perfect_agreement_gives_one(values: list[int], n_annotators: int) -> None:
    rows = [(i, a, v) for i, v in enumerate(values) for a in range(n_annotators)]
    data = to_frame(rows)
    assert percent_agreement(data) == 1.0
    if len(set(values)) > 1:
        for level in ("nominal", "ordinal", "interval", "ratio"):
            assert krippendorff_alpha(data, level) == 1.0
        assert fleiss_kappa(data) == 1.0
        assert gwet_ac1(data) == 1.0
