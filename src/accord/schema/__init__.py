"""The labeling schema language: fields and controls, and server-side validation of results."""

from accord.schema.context import ItemContext, MediaInfo
from accord.schema.html import sanitize_html
from accord.schema.parse import LabelingSchema, parse_schema
from accord.schema.validate import is_empty, labels_of, validate_result

__all__ = [
    "ItemContext",
    "LabelingSchema",
    "MediaInfo",
    "is_empty",
    "labels_of",
    "parse_schema",
    "sanitize_html",
    "validate_result",
]
