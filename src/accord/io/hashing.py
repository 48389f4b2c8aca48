"""Content hashes (duplicate detection) and the text an item is found by in full-text search."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

MAX_SEARCH_TEXT = 100_000
_MEDIA_PREFIXES = ("http://", "https://", "file://", "s3://", "local:", "data:")


def content_hash(data: Mapping[str, Any], media: str | None = None) -> str:
    """32 hex characters, stable across runs and machines: blake2b of canonical JSON + media."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.blake2b(canonical.encode(), digest_size=16)
    if media:
        digest.update(b"\x00" + media.encode())
    return digest.hexdigest()


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
