"""Near-duplicates and redundancy: exact content hashes, MinHash/LSH over word shingles,
perceptual image hashes, embedding cosine pairs, and the clusters and redundancy they imply.

Every finder returns :class:`SimilarPairs` (item indices ``left < right`` and a score);
:func:`cluster_labels` joins pairs into groups and :func:`redundancy_report` measures them.
Pure functions over numpy arrays: nothing here touches the database.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from scipy import fft, sparse
from scipy.sparse import csgraph

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

_WHITESPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
_U64 = np.uint64


@dataclass(frozen=True)
class SimilarPairs:
    """Pairs of item indices with ``left < right``, sorted, and one score per pair: the Jaccard
    similarity, the cosine similarity or the Hamming distance, as the finder says."""

    left: IntArray
    right: IntArray
    score: FloatArray

    def __len__(self) -> int:
        return len(self.left)

    @classmethod
    def empty(cls) -> SimilarPairs:
        none = np.empty(0, dtype=np.int64)
        return cls(none, none.copy(), np.empty(0, dtype=np.float64))

    @classmethod
    def of(cls, left: IntArray, right: IntArray, score: FloatArray) -> SimilarPairs:
        """Orient each pair as (smaller, larger), drop repeats and sort."""
        lo, hi = np.minimum(left, right), np.maximum(left, right)
        keep = lo != hi
        lo, hi, score = lo[keep], hi[keep], np.asarray(score, dtype=np.float64)[keep]
        n = int(hi.max()) + 1 if len(hi) else 1
        _, first = np.unique(lo * n + hi, return_index=True)
        return cls(lo[first].astype(np.int64), hi[first].astype(np.int64), score[first])

    def concat(self, other: SimilarPairs) -> SimilarPairs:
        return SimilarPairs.of(
            np.concatenate([self.left, other.left]),
            np.concatenate([self.right, other.right]),
            np.concatenate([self.score, other.score]),
        )


# -- exact duplicates --------------------------------------------------------------------------


def normalise_text(text: str) -> str:
    """The form two texts must share to count as exact duplicates: Unicode NFKC (full-width and
    compatibility characters folded), case-folded, every run of whitespace made one space, and
    stripped at both ends. Punctuation and accents are kept: they can change meaning."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def content_hash(content: str | bytes) -> str:
    """SHA-256 (hex) of the normalised text, or of the raw bytes of binary content."""
    raw = content if isinstance(content, bytes) else normalise_text(content).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()


def exact_duplicate_pairs(contents: Iterable[str | bytes]) -> SimilarPairs:
    """Each item whose :func:`content_hash` was already seen, paired (score 1.0) with the first
    item of that hash: one pair per repeated item, so a cluster of n costs n - 1 pairs."""
    return _pairs_with_first(content_hash(c) for c in contents)


def _pairs_with_first(keys: Iterable[str]) -> SimilarPairs:
    first: dict[str, int] = {}
    left: list[int] = []
    right: list[int] = []
    for i, key in enumerate(keys):
        j = first.setdefault(key, i)
        if j != i:
            left.append(j)
            right.append(i)
    return SimilarPairs(
        np.asarray(left, dtype=np.int64),
        np.asarray(right, dtype=np.int64),
        np.ones(len(left), dtype=np.float64),
    )


# -- shingles and MinHash ----------------------------------------------------------------------


def tokenize(text: str) -> list[str]:
    """Words of the normalised text (runs of letters, digits and underscore): punctuation and
    spacing differences do not separate near-duplicates."""
    return _WORD.findall(normalise_text(text))


@dataclass(frozen=True)
class ShingleSets:
    """One set of integer shingle ids per document, in CSR layout: the ids of document ``d`` are
    ``indices[indptr[d]:indptr[d + 1]]``, sorted and distinct."""

    indptr: IntArray
    indices: IntArray

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def sizes(self) -> IntArray:
        return np.diff(self.indptr)

    @classmethod
    def from_sets(cls, sets: Iterable[Iterable[int]]) -> ShingleSets:
        parts = [np.unique(np.fromiter(s, dtype=np.int64)) for s in sets]
        indptr = np.zeros(len(parts) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(p) for p in parts])
        indices = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
        return cls(indptr, indices.astype(np.int64))

    def matrix(self) -> sparse.csr_matrix:
        """Binary documents x shingles matrix."""
        width = int(self.indices.max()) + 1 if len(self.indices) else 1
        data = np.ones(len(self.indices), dtype=np.float32)
        return sparse.csr_matrix((data, self.indices, self.indptr), shape=(len(self), width))


def shingle_sets(token_lists: Sequence[Sequence[str]], k: int = 2) -> ShingleSets:
    """The sets of k consecutive words of each document, as exact integer ids (equal ids mean
    equal word k-grams). A document shorter than k words is one shingle, the whole document, so
    short texts still compare; a document without words has the empty set."""
    if k < 1:
        raise ValueError("k must be at least 1")
    vocabulary: dict[str, int] = {}
    flat = np.fromiter(
        (vocabulary.setdefault(w, len(vocabulary)) for tokens in token_lists for w in tokens),
        dtype=np.int64,
    )
    lengths = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=len(token_lists))
    if len(flat) == 0:
        return ShingleSets(np.zeros(len(lengths) + 1, dtype=np.int64), np.zeros(0, dtype=np.int64))
    ends = np.cumsum(lengths)
    starts = ends - lengths
    doc = np.repeat(np.arange(len(lengths)), lengths)
    # Window p holds words p..p+k-1; positions past the document's end read as -1 (padding).
    padded = np.concatenate([flat, np.full(k - 1, -1, dtype=np.int64)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, k).copy()
    beyond = np.arange(len(flat))[:, None] + np.arange(k)[None, :] >= ends[doc][:, None]
    windows[beyond] = -1
    position = np.arange(len(flat))
    valid = (position + k <= ends[doc]) | ((position == starts[doc]) & (lengths[doc] < k))
    windows, doc = windows[valid], doc[valid]
    shingle = _row_ids(windows + 1, len(vocabulary) + 1)
    n_shingles = int(shingle.max()) + 1 if len(shingle) else 1
    codes = np.unique(doc * n_shingles + shingle)
    doc, indices = codes // n_shingles, codes % n_shingles
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(np.bincount(doc, minlength=len(lengths)))
    return ShingleSets(indptr, indices)


def _row_ids(rows: IntArray, base: int) -> IntArray:
    """Dense ids of the distinct rows (values in [0, base)): packed into one int64 when it fits,
    else through a row-wise unique."""
    if len(rows) == 0:
        return np.empty(0, dtype=np.int64)
    if rows.shape[1] * math.log2(max(base, 2)) < 62:
        packed = np.zeros(len(rows), dtype=np.int64)
        for column in rows.T:
            packed = packed * base + column
        return np.unique(packed, return_inverse=True)[1].astype(np.int64)
    return np.unique(rows, axis=0, return_inverse=True)[1].reshape(-1).astype(np.int64)


def _mix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64's finaliser: spreads dense small ids over all 64 bits."""
    x = x ^ (x >> _U64(30))
    x = x * _U64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> _U64(27))
    x = x * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


def minhash_signatures(
    sets: ShingleSets, num_perm: int = 128, seed: int = 0, chunk_bytes: int = 2**26
) -> NDArray[np.uint32]:
    """(documents, num_perm) MinHash signatures. Each shingle is hashed once (SplitMix64), then
    permutation i maps it to ``(a_i * h + b_i) mod 2**64 >> 32`` (multiply-add-shift, a_i odd)
    and the signature keeps the minimum per document, a few permutations at a time. Empty sets
    get the all-ones signature, which no non-empty set has in practice."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**64 - 1, size=num_perm, dtype=np.uint64, endpoint=True) | _U64(1)
    b = rng.integers(0, 2**64 - 1, size=num_perm, dtype=np.uint64, endpoint=True)
    signatures = np.full((len(sets), num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    nonempty = np.flatnonzero(sets.sizes > 0)
    if len(nonempty) == 0:
        return signatures
    hashed = _mix64(sets.indices.astype(np.uint64))[:, None]
    step = max(1, chunk_bytes // (8 * len(hashed)))
    starts = sets.indptr[nonempty]
    for first in range(0, num_perm, step):
        last = min(num_perm, first + step)
        values = (hashed * a[None, first:last] + b[None, first:last]) >> _U64(32)
        signatures[nonempty, first:last] = np.minimum.reduceat(values, starts, axis=0)
    return signatures


def estimate_jaccard(signature_a: NDArray[np.uint32], signature_b: NDArray[np.uint32]) -> float:
    """The fraction of permutations on which the two minima agree: an unbiased estimate of the
    Jaccard similarity with standard error sqrt(J (1 - J) / num_perm)."""
    return float(np.mean(signature_a == signature_b))


def jaccard_of_pairs(
    sets: ShingleSets, left: IntArray, right: IntArray, chunk: int = 200_000
) -> FloatArray:
    """Exact Jaccard similarity of each pair of sets (0 when both are empty)."""
    matrix, sizes = sets.matrix(), sets.sizes
    out = np.empty(len(left), dtype=np.float64)
    for first in range(0, len(left), chunk):
        lo, hi = left[first : first + chunk], right[first : first + chunk]
        common = np.asarray(matrix[lo].multiply(matrix[hi]).sum(axis=1)).ravel()
        union = sizes[lo] + sizes[hi] - common
        out[first : first + chunk] = np.divide(
            common, union, out=np.zeros(len(lo)), where=union > 0
        )
    return out


# -- LSH banding -------------------------------------------------------------------------------


def candidate_probability(similarity: FloatArray | float, bands: int, rows: int) -> FloatArray:
    """The LSH S-curve: two sets of Jaccard s share at least one of ``bands`` bands of ``rows``
    minima with probability 1 - (1 - s**rows)**bands. The curve rises steeply around
    (1/bands)**(1/rows): more rows move it right and sharpen it, more bands move it left."""
    s = np.asarray(similarity, dtype=np.float64)
    return np.asarray(1.0 - (1.0 - s**rows) ** bands, dtype=np.float64)


def lsh_parameters(threshold: float, num_perm: int, recall: float = 0.99) -> tuple[int, int]:
    """(bands, rows) with bands * rows <= num_perm for a Jaccard threshold. Candidates are
    verified by their exact Jaccard, so a false positive costs only time while a false negative
    loses a pair: among the layouts whose S-curve reaches ``recall`` at the threshold itself
    (pairs above it do better), take the one with the least area under the curve below the
    threshold (fewest false candidates); if none reaches it, the one with the highest recall."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError("threshold must be in (0, 1]")
    below = np.linspace(0.0, threshold, 201)
    best: tuple[float, float, int, int] | None = None
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows
        at_threshold = float(candidate_probability(threshold, bands, rows))
        false_area = float(np.trapezoid(candidate_probability(below, bands, rows), below))
        key = (0.0, false_area) if at_threshold >= recall else (1.0, -at_threshold)
        if best is None or key < best[:2]:
            best = (*key, bands, rows)
    assert best is not None
    return best[2], best[3]


def lsh_candidate_pairs(signatures: NDArray[np.uint32], bands: int, rows: int) -> IntArray:
    """(m, 2) pairs ``i < j`` of documents equal on all rows of at least one band. A band's rows
    are hashed to one 64-bit key; a key collision only adds a candidate, which verification
    removes. Cost grows with the square of the largest bucket."""
    n = len(signatures)
    rng = np.random.default_rng(0x5EED)
    multipliers = rng.integers(0, 2**64 - 1, size=rows, dtype=np.uint64, endpoint=True) | _U64(1)
    codes: list[IntArray] = []
    for band in range(bands):
        block = signatures[:, band * rows : (band + 1) * rows].astype(np.uint64)
        keys = _mix64((block * multipliers[None, :]).sum(axis=1, dtype=np.uint64))
        order = np.argsort(keys, kind="stable")
        left, right = _pairs_within_runs(order, keys[order])
        codes.append(np.minimum(left, right) * n + np.maximum(left, right))
    unique = np.unique(np.concatenate(codes)) if codes else np.empty(0, dtype=np.int64)
    return np.stack([unique // n, unique % n], axis=1).astype(np.int64)


def _pairs_within_runs(
    order: IntArray, sorted_keys: NDArray[np.uint64]
) -> tuple[IntArray, IntArray]:
    """All pairs of members inside each run of equal keys, without a loop over runs."""
    n = len(order)
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]) if n else order[:0]
    sizes = np.diff(np.r_[starts, n])
    run = np.repeat(np.arange(len(starts)), sizes)
    rank = np.arange(n) - starts[run]
    later = sizes[run] - 1 - rank
    total = int(later.sum())
    left_pos = np.repeat(np.arange(n), later)
    offset = np.arange(total) - np.repeat(np.cumsum(later) - later, later) + 1
    return order[left_pos].astype(np.int64), order[left_pos + offset].astype(np.int64)


def text_near_duplicate_pairs(
    texts: Sequence[str],
    threshold: float = 0.8,
    *,
    k: int = 2,
    num_perm: int = 128,
    seed: int = 0,
    bands: int | None = None,
    rows: int | None = None,
) -> SimilarPairs:
    """Pairs of texts whose word k-shingle sets have Jaccard >= threshold, each with its exact
    Jaccard. Texts with the same word sequence are collapsed first: each repeat is paired
    (score 1.0) with the first text of that sequence and takes no further part, so clusters are
    complete while the pair list stays linear in the repeats. The distinct sequences go through
    MinHash and LSH banding (``bands``/``rows`` from :func:`lsh_parameters` unless given), and
    every candidate is verified by its exact Jaccard: no pair below the threshold is returned.
    Texts without any word are left out (exact duplicates cover them). The default k = 2 suits
    sentences; use more for long documents."""
    tokens = [tokenize(t) for t in texts]
    sequence = [" ".join(t) if t else f"\0{i}" for i, t in enumerate(tokens)]
    repeats = _pairs_with_first(sequence)
    first_of: dict[str, int] = {}
    for i, s in enumerate(sequence):
        first_of.setdefault(s, i)
    firsts = [i for i in first_of.values() if tokens[i]]
    reps = np.asarray(firsts, dtype=np.int64)
    sets = shingle_sets([tokens[i] for i in firsts], k)
    if bands is None or rows is None:
        bands, rows = lsh_parameters(threshold, num_perm)
    signatures = minhash_signatures(sets, bands * rows, seed)
    candidates = lsh_candidate_pairs(signatures, bands, rows)
    jaccard = jaccard_of_pairs(sets, candidates[:, 0], candidates[:, 1])
    keep = jaccard >= threshold
    near = SimilarPairs.of(reps[candidates[keep, 0]], reps[candidates[keep, 1]], jaccard[keep])
    return near.concat(repeats)


# -- images ------------------------------------------------------------------------------------


def _grey(image: Image.Image | str | Path, size: tuple[int, int]) -> FloatArray:
    opened = image if isinstance(image, Image.Image) else Image.open(image)
    small = opened.convert("L").resize(size, Image.Resampling.LANCZOS)
    return np.asarray(small, dtype=np.float64)


def dhash(image: Image.Image | str | Path, size: int = 8) -> BoolArray:
    """Difference hash: the greyscale image shrunk to (size + 1) x size, one bit per pixel
    telling whether it is brighter than its right neighbour. size**2 bits."""
    pixels = _grey(image, (size + 1, size))
    return (pixels[:, 1:] > pixels[:, :-1]).ravel()


def phash(image: Image.Image | str | Path, size: int = 8, highfreq_factor: int = 4) -> BoolArray:
    """Perceptual hash: the 2-D DCT-II of the greyscale image shrunk to (size * highfreq_factor)
    squared, its size x size lowest frequencies compared with their median. size**2 bits."""
    side = size * highfreq_factor
    coefficients = fft.dctn(_grey(image, (side, side)), type=2, norm="ortho")[:size, :size]
    return np.asarray((coefficients > np.median(coefficients)).ravel(), dtype=np.bool_)


def image_hashes(
    images: Iterable[Image.Image | str | Path], method: str = "dhash", size: int = 8
) -> BoolArray:
    """(n, size**2) boolean hashes with ``method`` "dhash" or "phash"."""
    hasher = {"dhash": dhash, "phash": phash}[method]
    rows = [hasher(image, size) for image in images]
    return np.stack(rows) if rows else np.empty((0, size * size), dtype=np.bool_)


def hamming_pairs(hashes: BoolArray, max_distance: int = 10, chunk: int = 2048) -> SimilarPairs:
    """Pairs of hashes at Hamming distance <= max_distance, score = the distance. Distances come
    from two matrix products of the 0/1 bits (exact in float32 for hashes under 2**24 bits)."""
    bits = hashes.astype(np.float32)
    flipped = 1.0 - bits
    return _threshold_pairs(
        lambda lo, hi: bits[lo:hi] @ flipped.T + flipped[lo:hi] @ bits.T,
        len(bits),
        chunk,
        lambda block: block <= max_distance + 0.5,
        rounding=True,
    )


# -- embeddings --------------------------------------------------------------------------------


def cosine_pairs(
    vectors: NDArray[np.floating], threshold: float, chunk: int = 2048
) -> SimilarPairs:
    """Pairs of rows with cosine similarity >= threshold, exact, by chunked products of the
    unit-normalised matrix (chunk rows against all, so memory is chunk x n). Zero vectors have
    similarity 0 with everything."""
    matrix = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    unit = np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)
    return _threshold_pairs(
        lambda lo, hi: unit[lo:hi] @ unit.T, len(unit), chunk, lambda block: block >= threshold
    )


def _threshold_pairs(
    block_of: Callable[[int, int], NDArray[np.floating]],
    n: int,
    chunk: int,
    passes: Callable[[FloatArray], BoolArray],
    rounding: bool = False,
) -> SimilarPairs:
    lefts: list[IntArray] = []
    rights: list[IntArray] = []
    scores: list[FloatArray] = []
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk)
        block = np.asarray(block_of(lo, hi), dtype=np.float64)
        upper = np.arange(n)[None, :] > np.arange(lo, hi)[:, None]
        r, c = np.nonzero(passes(block) & upper)
        lefts.append(r.astype(np.int64) + lo)
        rights.append(c.astype(np.int64))
        scores.append(np.round(block[r, c]) if rounding else block[r, c])
    if not lefts:
        return SimilarPairs.empty()
    return SimilarPairs.of(np.concatenate(lefts), np.concatenate(rights), np.concatenate(scores))


# -- clusters and redundancy -------------------------------------------------------------------


def cluster_labels(n_items: int, *pair_sets: SimilarPairs) -> IntArray:
    """Connected components of the pairs: each item's label is the smallest item index of its
    cluster (its first item), so an item is redundant exactly when its label is not itself."""
    left = np.concatenate([p.left for p in pair_sets]) if pair_sets else np.empty(0, np.int64)
    right = np.concatenate([p.right for p in pair_sets]) if pair_sets else np.empty(0, np.int64)
    graph = sparse.coo_matrix(
        (np.ones(len(left), dtype=np.int8), (left, right)), shape=(n_items, n_items)
    )
    component = np.asarray(csgraph.connected_components(graph, directed=False)[1], np.int64)
    first = np.full(int(component.max()) + 1 if n_items else 0, n_items, dtype=np.int64)
    np.minimum.at(first, component, np.arange(n_items))
    return first[component].astype(np.int64)


@dataclass(frozen=True)
class RedundancyReport:
    """How redundant a collection is. ``cluster_sizes`` and ``cluster_firsts`` describe the
    clusters of two or more items, largest first (ties by first item)."""

    n_items: int
    n_clusters: int
    n_redundant: int
    redundancy_rate: float
    cluster_sizes: IntArray
    cluster_firsts: IntArray

    def largest(self, count: int = 10) -> list[tuple[int, int]]:
        """(size, first item) of the ``count`` largest clusters."""
        return [
            (int(s), int(f))
            for s, f in zip(self.cluster_sizes[:count], self.cluster_firsts[:count], strict=True)
        ]


def redundancy_report(labels: IntArray) -> RedundancyReport:
    """Redundancy rate = items that are not the first of their cluster / all items."""
    firsts, sizes = np.unique(labels, return_counts=True)
    multi = sizes > 1
    order = np.lexsort((firsts[multi], -sizes[multi]))
    n = len(labels)
    redundant = n - len(firsts)
    return RedundancyReport(
        n_items=n,
        n_clusters=len(firsts),
        n_redundant=redundant,
        redundancy_rate=redundant / n if n else 0.0,
        cluster_sizes=sizes[multi][order].astype(np.int64),
        cluster_firsts=firsts[multi][order].astype(np.int64),
    )
