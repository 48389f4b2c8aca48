"""The consensus methods a project may choose, by the name stored with every result."""

from __future__ import annotations

from accord.quality import GLAD, MACE, DawidSkene, MajorityVote, OneCoinDawidSkene, Wawa
from accord.quality.aggregation._base import CategoricalAggregator

METHODS: dict[str, type[CategoricalAggregator]] = {
    "majority_vote": MajorityVote,
    "wawa": Wawa,
    "dawid_skene": DawidSkene,
    "one_coin_dawid_skene": OneCoinDawidSkene,
    "glad": GLAD,
    "mace": MACE,
}
