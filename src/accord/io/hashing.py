"""Content hashes (duplicate detection) and the text an item is found by in full-text search."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

MAX_SEARCH_TEXT = 100_000
_MEDIA_PREFIXES = ("http://", "https://", "file://", "s3://", "local:", "data:")


def content_hash(data: Mapping[str, Any], media: str | None = None) -> str:
    """32 hex characters, stable across runs and machines: blake2b of canonical JSON + media.

    Canonical JSON is compact UTF-8 with sorted keys, so two rows that differ only in key order
    are duplicates."""
    digest = hashlib.blake2b(dump_json(data, canonical=True), digest_size=16)
    if media:
        digest.update(b"\x00" + media.encode())
    return digest.hexdigest()


def dump_json(value: Any, *, canonical: bool = False) -> bytes:
    """Compact UTF-8 JSON; values JSON has no type for (dates, decimals) are written as text."""
    option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_SORT_KEYS if canonical else 0)
    return orjson.dumps(value, default=str, option=option)


def search_text(data: Mapping[str, Any]) -> str:
    """All string values, depth first in key order, except media references and URLs."""
    parts: list[str] = []
    stack: list[Any] = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if not value.startswith(_MEDIA_PREFIXES):
                parts.append(value)
        elif isinstance(value, Mapping):
            stack.extend(reversed(list(value.values())))
        elif isinstance(value, list):
            stack.extend(reversed(value))
    return " ".join(parts)[:MAX_SEARCH_TEXT]
