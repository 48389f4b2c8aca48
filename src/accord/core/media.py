"""Media folders: import files referenced in place or copied into the configured storage."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from accord.config import Settings
from accord.core.imports import ImportReport, run_import
from accord.db.engine import Database
from accord.db.models import Item
from accord.errors import InvalidInput, NotFound
from accord.io import ImportRecord, LocalStorage, MediaStorage, get_storage, read_records

_CONTENT_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".m4a": "audio/mp4",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mov": "video/quicktime",
    ".mkv": "video/x-matroska",
}


def storage_for(settings: Settings) -> MediaStorage:
    """The media storage the settings name: a folder in the data directory, or an S3 bucket."""
    if settings.storage == "s3":
        if not settings.s3_bucket:
            raise InvalidInput("ACCORD_S3_BUCKET must be set when ACCORD_STORAGE is s3")
        return get_storage(
            "s3",
            bucket=settings.s3_bucket,
            prefix=settings.s3_prefix,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
        )
    return get_storage(settings.storage, root=settings.media_dir)


@dataclass(frozen=True)
class MediaSource:
    """Where the bytes of an item's media come from: a local file or a URL to redirect to."""

    content_type: str
    path: Path | None = None
    url: str | None = None


def media_source(item: Item, storage: MediaStorage) -> MediaSource:
    ref = item.media
    if not ref:
        raise NotFound(f"item {item.id} has no media")
    content_type = _CONTENT_TYPES.get(Path(ref).suffix.lower(), "application/octet-stream")
    if ref.startswith(("http://", "https://")):
        return MediaSource(content_type, url=ref)
    if ref.startswith("file://"):
        # Referenced in place by an administrator's folder import: served from where it lies.
        path = Path(ref.removeprefix("file://"))
    elif isinstance(storage, LocalStorage) and ref.startswith(LocalStorage.scheme):
        path = storage.path_of(ref)
    else:
        url = storage.url(ref)
        if url is None:
            raise NotFound(f"media {ref} cannot be served by this storage")
        return MediaSource(content_type, url=url)
    if not path.is_file():
        raise NotFound(f"media of item {item.id} is missing: {ref}")
    return MediaSource(content_type, path=path)


def _copied(
    records: Iterator[ImportRecord], storage: MediaStorage, folder: Path, stored: list[str]
) -> Iterator[ImportRecord]:
    for record in records:
        relative = record.meta.get("filename") or Path(record.media or "").name
        source = folder / relative
        ref = storage.put(f"imports/{folder.name}/{relative}", source)
        stored.append(ref)
        data = {
            key: (ref if value == record.media else value) for key, value in record.data.items()
        }
        yield replace(record, data=data, media=ref)


def import_folder(
    db: Database,
    project_id: int,
    user_id: int,
    folder: Path,
    *,
    copy: bool = False,
    storage: MediaStorage | None = None,
) -> ImportReport:
    """Every image, audio or video file under ``folder`` becomes an item (sorted by path)."""
    if not folder.is_dir():
        raise InvalidInput(f"{folder} is not a folder", [{"field": "path", "rule": "folder"}])
    records = read_records(folder, format="folder")
    stored: list[str] = []
    if copy:
        if storage is None:
            raise InvalidInput("copying media needs a storage backend")
        records = _copied(iter(records), storage, folder, stored)

    def forget_copies() -> None:
        assert storage is not None or not stored
        for ref in stored:
            storage.delete(ref)  # type: ignore[union-attr]

    return run_import(
        db,
        project_id,
        user_id,
        records,
        source=str(folder),
        format="folder",
        on_failure=forget_copies,
    )
