"""Media folders: each image, audio or video file becomes a record, sized from its header."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from accord.errors import ImportRowError
from accord.io.records import ImportRecord

KINDS = {
    "image": {".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"},
    "audio": {".wav", ".mp3", ".flac", ".ogg", ".m4a"},
    "video": {".mp4", ".webm", ".mov", ".mkv", ".avi"},
}
KIND_OF = {ext: kind for kind, exts in KINDS.items() for ext in exts}


def file_ref(path: Path) -> str:
    """A file used in place: an absolute file:// reference (read-only, never deleted)."""
    return path.resolve().as_uri()


def media_info(path: Path, kind: str) -> dict[str, Any]:
    if kind == "image":
        from PIL import Image

        with Image.open(path) as image:  # reads the header only
            return {"width": image.width, "height": image.height}
    if kind == "audio" and path.suffix.lower() == ".wav":
        with wave.open(str(path), "rb") as clip:
            return {
                "duration": clip.getnframes() / clip.getframerate(),
                "sample_rate": clip.getframerate(),
            }
    import mutagen

    parsed = mutagen.File(str(path))
    if parsed is None or parsed.info is None:
        return {}
    info: dict[str, Any] = {"duration": float(parsed.info.length)}
    return info


def read_folder(folder: Path) -> Iterator[ImportRecord]:
    if not folder.is_dir():
        raise ImportRowError(0, f"{folder} is not a folder")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in KIND_OF)
    for row, path in enumerate(files, start=1):
        kind = KIND_OF[path.suffix.lower()]
        relative = path.relative_to(folder).as_posix()
        try:
            info = media_info(path, kind)
        except Exception as exc:  # any decoder error means the file cannot be used
            raise ImportRowError(row, f"{relative}: unreadable {kind} ({exc})") from None
        ref = file_ref(path)
        yield ImportRecord(row, {kind: ref}, {"filename": relative}, ref, info or None)
