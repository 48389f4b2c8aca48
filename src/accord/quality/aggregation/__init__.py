"""Categorical label aggregation: one true label per item from several annotators' labels."""

from accord.quality.aggregation.dawid_skene import DawidSkene, OneCoinDawidSkene
from accord.quality.aggregation.glad import GLAD
from accord.quality.aggregation.mace import MACE
from accord.quality.aggregation.majority import MajorityVote, Wawa

__all__ = ["GLAD", "MACE", "DawidSkene", "MajorityVote", "OneCoinDawidSkene", "Wawa"]
