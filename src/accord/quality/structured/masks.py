"""Segmentation masks as run-length encodings (RLE), and IoU computed on the runs.

RLE format used throughout Accord::

    {"size": [height, width], "counts": [z0, o1, z2, o3, ...]}

The mask is read in **row-major** order (row 0 left to right, then row 1, ...). ``counts``
alternate runs of 0 and 1 pixels and always **start with a run of zeros**, which is 0 when the
first pixel is set. The counts sum to ``height * width``. This is COCO's uncompressed RLE except
that COCO reads columns first; :func:`rle_encode` and :func:`rle_decode` take ``order="F"`` for
COCO's column-major order. IoU never decodes: it intersects the runs directly, so its cost
depends on the number of runs, not on the image size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from accord.quality.data import FloatArray, IntArray

RLE = dict[str, list[int]]


def rle_encode(mask: npt.ArrayLike, *, order: Literal["C", "F"] = "C") -> RLE:
    """Encode a 2-D boolean mask (row-major by default, ``order="F"`` for COCO's layout)."""
    m = np.asarray(mask)
    if m.ndim != 2:
        raise ValueError("a mask must be two-dimensional")
    flat = m.astype(bool).ravel(order=order)
    change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        counts = [0, *counts]
    return {"size": [int(m.shape[0]), int(m.shape[1])], "counts": [int(c) for c in counts]}


def _check(rle: RLE) -> tuple[int, int, IntArray]:
    if "size" not in rle or "counts" not in rle:
        raise ValueError("an RLE needs 'size' and 'counts'")
    h, w = (int(v) for v in rle["size"])
    counts = np.asarray(rle["counts"], dtype=np.int64)
    if (counts < 0).any() or int(counts.sum()) != h * w:
        raise ValueError("RLE counts must be non-negative and sum to height * width")
    return h, w, counts


def rle_decode(rle: RLE, *, order: Literal["C", "F"] = "C") -> npt.NDArray[np.bool_]:
    """The boolean mask of an RLE."""
    h, w, counts = _check(rle)
    values = (np.arange(counts.shape[0]) % 2).astype(bool)
    flat = np.repeat(values, counts)
    return flat.reshape((h, w), order=order)


def rle_area(rle: RLE) -> int:
    """Number of set pixels."""
    _, _, counts = _check(rle)
    return int(counts[1::2].sum())


def _runs(counts: IntArray) -> tuple[IntArray, IntArray]:
    ends = np.cumsum(counts)
    starts = ends - counts
    return starts[1::2], ends[1::2]


def _intersection(a: IntArray, b: IntArray) -> int:
    sa, ea = _runs(a)
    sb, eb = _runs(b)
    if sa.size == 0 or sb.size == 0:
        return 0
    # For each run of a, the runs of b that can overlap it form a contiguous block.
    first = np.searchsorted(eb, sa, side="right")
    last = np.searchsorted(sb, ea, side="left")
    lengths = np.maximum(last - first, 0)
    if lengths.sum() == 0:
        return 0
    run_a = np.repeat(np.arange(sa.size), lengths)
    offsets = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    run_b = np.repeat(first, lengths) + offsets
    overlap = np.minimum(ea[run_a], eb[run_b]) - np.maximum(sa[run_a], sb[run_b])
    return int(np.clip(overlap, 0, None).sum())


def mask_iou(a: RLE, b: RLE) -> float:
    """Intersection over union of two masks of the same size (1.0 when both are empty)."""
    ha, wa, ca = _check(a)
    hb, wb, cb = _check(b)
    if (ha, wa) != (hb, wb):
        raise ValueError("masks must have the same size")
    inter = _intersection(ca, cb)
    union = int(ca[1::2].sum()) + int(cb[1::2].sum()) - inter
    return 1.0 if union == 0 else inter / union


def mask_iou_matrix(first: Sequence[RLE], second: Sequence[RLE]) -> FloatArray:
    """IoU between every mask of ``first`` and every mask of ``second``."""
    out = np.zeros((len(first), len(second)))
    for i, a in enumerate(first):
        for j, b in enumerate(second):
            out[i, j] = mask_iou(a, b)
    return out


def as_rle(value: Any) -> RLE:
    """Accept an RLE dict or a 2-D array (encoded row-major)."""
    if isinstance(value, dict):
        return value
    return rle_encode(np.asarray(value))
