"""The one way routes answer with stored media: the file itself, or a redirect to its URL."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Response
from fastapi.responses import FileResponse, RedirectResponse

from accord.core.media import MediaSource


def media_response(source: MediaSource, headers: Mapping[str, str] | None = None) -> Response:
    """A local file is sent with ``headers``; anything else is a 307 to its URL (S3 presigned,
    http)."""
    if source.url is not None:
        return RedirectResponse(source.url, status_code=307)
    assert source.path is not None
    return FileResponse(source.path, media_type=source.content_type, headers=headers)
