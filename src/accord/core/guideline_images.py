"""Images in the guidelines: uploaded by a project's managers, recognised by their bytes (never by
their file name), stored once per content in the project's media storage and served to the
project's members at a stable address.

An image's name is the SHA-256 of its bytes plus the extension of its format, so uploading the
same file again stores nothing new and gives the same address, and an address never changes
what it shows (browsers may cache it for good). SVG is not accepted: it can carry scripts."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO

from sqlalchemy.orm import Session

from accord.core import audit
from accord.core.media import MediaSource
from accord.db.models import Project
from accord.errors import InvalidInput, NotFound, TooLarge
from accord.io import LocalStorage, MediaStorage

CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
}
FORMAT_NAMES = "PNG, JPEG, GIF or WebP"
_NAME = re.compile(r"^([0-9a-f]{64})\.(png|jpg|gif|webp)$")


def sniff(head: bytes) -> str | None:
    """The image format of these leading bytes (the extension used in names), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


@dataclass(frozen=True)
class GuidelineImage:
    project_id: int
    name: str
    """``<sha256 of the bytes>.<png|jpg|gif|webp>``"""
    size: int
    created: bool
    """False when the same bytes were already stored for the project."""

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.name.rsplit(".", 1)[1]]

    @property
    def url(self) -> str:
        """Where members load it from (a path of this server, stable for ever)."""
        return image_url(self.project_id, self.name)


def image_url(project_id: int, name: str) -> str:
    return f"/api/v1/projects/{project_id}/guideline-images/{name}"


def _key(project_id: int, name: str) -> str:
    return f"guidelines/{project_id}/{name}"


def markdown_for(image: GuidelineImage, filename: str | None) -> str:
    """The markdown that shows the image, its alt text taken from the uploaded file's name."""
    stem = PurePath(filename or "").stem
    alt = " ".join(re.sub(r"[\[\]\\]", " ", stem).split()) or "image"
    return f"![{alt}]({image.url})"


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.3g} MiB"


def _read(stream: IO[bytes], max_bytes: int) -> bytes:
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        message = f"the image is larger than the limit of {max_bytes:,} bytes ({_mib(max_bytes)})"
        raise TooLarge(
            message, [{"field": "file", "rule": "max_size", "max_bytes": max_bytes, "msg": message}]
        )
    return data


def store(
    storage: MediaStorage, project_id: int, stream: IO[bytes], *, max_bytes: int
) -> GuidelineImage:
    """Checks and stores one uploaded image of the project's guidelines (at most ``max_bytes``,
    the setting ``guideline_image_max_bytes``); storing the same bytes again changes nothing
    and names the image already there."""
    data = _read(stream, max_bytes)
    kind = sniff(data[:16])
    if kind is None:
        message = f"the file is not a {FORMAT_NAMES} image (judged by its content, not its name)"
        raise InvalidInput(message, [{"field": "file", "rule": "image_type", "msg": message}])
    name = f"{hashlib.sha256(data).hexdigest()}.{kind}"
    key = _key(project_id, name)
    created = not storage.exists(storage.ref(key))
    if created:
        storage.put(key, io.BytesIO(data))
    return GuidelineImage(project_id, name, len(data), created)


def upload(
    session: Session,
    storage: MediaStorage,
    project: Project,
    stream: IO[bytes],
    *,
    filename: str | None,
    max_bytes: int,
    actor_id: int,
) -> GuidelineImage:
    """``store`` and, when the image is new, an audit event naming it."""
    image = store(storage, project.id, stream, max_bytes=max_bytes)
    if image.created:
        audit.record(
            session,
            actor_id=actor_id,
            action="guidelines.image_upload",
            entity="project",
            entity_id=project.id,
            project_id=project.id,
            name=image.name,
            filename=filename or "",
            size=image.size,
        )
    return image


def source(storage: MediaStorage, project_id: int, name: str) -> MediaSource:
    """How to serve the project's image ``name``; NotFound for a name that is not one."""
    match = _NAME.match(name)
    if match is None:
        raise NotFound(f"guideline image {name!r} not found")
    ref = storage.ref(_key(project_id, name))
    content_type = CONTENT_TYPES[match.group(2)]
    if isinstance(storage, LocalStorage):
        path = storage.path_of(ref)
        if not path.is_file():
            raise NotFound(f"guideline image {name!r} not found")
        return MediaSource(content_type, path=path)
    if not storage.exists(ref):  # a presigned URL would be signed for any key
        raise NotFound(f"guideline image {name!r} not found")
    url = storage.url(ref)
    if url is None:
        raise NotFound(f"guideline image {name!r} cannot be served by this storage")
    return MediaSource(content_type, url=url)
