"""Keypoints: object keypoint similarity (OKS), the COCO keypoint agreement measure."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from accord.quality.data import FloatArray

COCO_PERSON_SIGMAS: FloatArray = (
    np.array(
        [
            0.26,
            0.25,
            0.25,
            0.35,
            0.35,
            0.79,
            0.79,
            0.72,
            0.72,
            0.62,
            0.62,
            1.07,
            1.07,
            0.87,
            0.87,
            0.89,
            0.89,
        ]
    )
    / 10.0
)
"""Per-keypoint constants of COCO's 17 person keypoints."""


def keypoint_oks(
    reference: npt.ArrayLike,
    predicted: npt.ArrayLike,
    area: npt.ArrayLike,
    sigmas: npt.ArrayLike | None = None,
) -> FloatArray:
    """OKS between every reference and every predicted keypoint set.

    ``reference`` is (n, K, 3) with a visibility flag ``v`` in the last column (or (n, K, 2):
    all visible), ``predicted`` is (m, K, 2 or 3), ``area`` the (n,) reference object areas and
    ``sigmas`` the (K,) per-keypoint constants (COCO's person values when K = 17 and none are
    given). ``OKS = sum_{v>0} exp(-d² / (2 area (2 sigma)²)) / #{v>0}``; NaN for a reference
    with no visible keypoint.
    """
    ref = np.asarray(reference, dtype=np.float64)
    pred = np.asarray(predicted, dtype=np.float64)
    if ref.ndim == 2:
        ref = ref[None]
    if pred.ndim == 2:
        pred = pred[None]
    if ref.ndim != 3 or pred.ndim != 3 or ref.shape[1] != pred.shape[1]:
        raise ValueError("keypoints must be (n, K, 2|3) arrays with the same K")
    k = ref.shape[1]
    if sigmas is None:
        if k != COCO_PERSON_SIGMAS.shape[0]:
            raise ValueError("pass sigmas (one per keypoint) unless using COCO's 17 keypoints")
        s = COCO_PERSON_SIGMAS
    else:
        s = np.asarray(sigmas, dtype=np.float64)
        if s.shape != (k,):
            raise ValueError("sigmas needs one value per keypoint")
    areas = np.asarray(area, dtype=np.float64).reshape(-1)
    if areas.shape[0] != ref.shape[0]:
        raise ValueError("area needs one value per reference object")
    visible = ref[:, :, 2] > 0 if ref.shape[2] > 2 else np.ones(ref.shape[:2], dtype=bool)
    d2 = ((ref[:, None, :, :2] - pred[None, :, :, :2]) ** 2).sum(axis=3)
    variance = (2.0 * s) ** 2
    e = d2 / (2.0 * np.maximum(areas, np.finfo(float).eps)[:, None, None] * variance)
    similarity = np.exp(-e) * visible[:, None, :]
    n_visible = visible.sum(axis=1)[:, None]
    out = np.divide(
        similarity.sum(axis=2),
        n_visible,
        out=np.full(similarity.shape[:2], np.nan),
        where=n_visible > 0,
    )
    return np.asarray(out, dtype=np.float64)
