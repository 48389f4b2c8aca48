"""Aggregation and agreement for structured annotations: boxes, spans, text, rankings, ratings,
masks and keypoints."""

from accord.quality.structured.boxes import (
    BoxAggregator,
    MatchScore,
    box_f1,
    box_iou,
    match_boxes,
)
from accord.quality.structured.keypoints import COCO_PERSON_SIGMAS, keypoint_oks
from accord.quality.structured.masks import (
    mask_iou,
    mask_iou_matrix,
    rle_area,
    rle_decode,
    rle_encode,
)
from accord.quality.structured.rankings import (
    BradleyTerry,
    kendall_tau,
    pairs_from_rankings,
    pairwise_kendall_tau,
)
from accord.quality.structured.ratings import RatingAggregator
from accord.quality.structured.spans import SpanAggregator, SpanScore, span_f1
from accord.quality.structured.text import (
    TextAggregator,
    align,
    cer,
    edit_distance,
    rover,
    wer,
)

__all__ = [
    "COCO_PERSON_SIGMAS",
    "BoxAggregator",
    "BradleyTerry",
    "MatchScore",
    "RatingAggregator",
    "SpanAggregator",
    "SpanScore",
    "TextAggregator",
    "align",
    "box_f1",
    "box_iou",
    "cer",
    "edit_distance",
    "kendall_tau",
    "keypoint_oks",
    "mask_iou",
    "mask_iou_matrix",
    "match_boxes",
    "pairs_from_rankings",
    "pairwise_kendall_tau",
    "rle_area",
    "rle_decode",
    "rle_encode",
    "rover",
    "span_f1",
    "wer",
]
