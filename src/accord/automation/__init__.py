"""Models in the loop, as pure algorithms (no database imports): model backends
(``accord.automation.backends``), embeddings and vector search (``embeddings``), active-learning
strategies (``active_learning``), weak supervision (``weak_supervision``), near-duplicate
detection and personal-data policies (re-exported here). The heavier modules are imported by
name, so importing this package stays cheap."""

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
