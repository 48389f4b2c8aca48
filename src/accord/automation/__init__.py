"""Automation around labeling: near-duplicate detection and personal data (PII) policies."""

from accord.automation import pii
from accord.automation.near_duplicates import (
    RedundancyReport,
    SimilarPairs,
    cluster_labels,
    cosine_pairs,
    exact_duplicate_pairs,
    hamming_pairs,
    image_hashes,
    redundancy_report,
    text_near_duplicate_pairs,
)
from accord.automation.pii import PiiEntity, PiiKind, PiiPolicy, PolicyResult

__all__ = [
    "PiiEntity",
    "PiiKind",
    "PiiPolicy",
    "PolicyResult",
    "RedundancyReport",
    "SimilarPairs",
    "cluster_labels",
    "cosine_pairs",
    "exact_duplicate_pairs",
    "hamming_pairs",
    "image_hashes",
    "pii",
    "redundancy_report",
    "text_near_duplicate_pairs",
]
