"""Media folders: each image, audio or video file becomes a record, sized from its header.

Hidden files and folders (names starting with a dot, such as macOS ``._photo.jpg`` resource
forks) are skipped."""

from __future__ import annotations

import struct
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

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


# EXIF orientations that turn the picture a quarter: browsers show it turned, so the natural
# size a client sees (and draws regions in) has width and height swapped.
_QUARTER_TURNS = {5, 6, 7, 8}
_EXIF_ORIENTATION = 0x0112


def media_info(path: Path, kind: str) -> dict[str, Any]:
    if kind == "image":
        from PIL import Image

        with Image.open(path) as image:  # reads the header only
            width, height = image.width, image.height
            if image.getexif().get(_EXIF_ORIENTATION) in _QUARTER_TURNS:
                width, height = height, width
            return {"width": width, "height": height}
    if kind == "audio" and path.suffix.lower() == ".wav":
        try:
            with wave.open(str(path), "rb") as clip:
                return {
                    "duration": clip.getnframes() / clip.getframerate(),
                    "sample_rate": clip.getframerate(),
                }
        except (wave.Error, EOFError):
            pass  # not plain PCM (float, ADPCM, ...): mutagen reads its header below
    if kind == "video" and path.suffix.lower() in {".mp4", ".mov", ".m4v"}:
        try:
            info = mp4_video_info(path)
        except (struct.error, IndexError, ValueError):
            info = {}  # an unusual header: mutagen may still read the duration
        if info:
            return info
    import mutagen

    parsed = mutagen.File(str(path))
    if parsed is None or parsed.info is None:
        return {}
    return {"duration": float(parsed.info.length)}


_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def _boxes(f: BinaryIO, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the ISO media boxes between here and ``end``."""
    while f.tell() + 8 <= end:
        start = f.tell()
        size, kind = struct.unpack(">I4s", f.read(8))
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", f.read(8))
            header = 16
        elif size == 0:
            size = end - start
        if size < header or start + size > end:
            return
        yield kind, start + header, start + size
        f.seek(start + size)


def mp4_video_info(path: Path) -> dict[str, Any]:
    """Width, height, duration, frame count and frame rate of the first video track of an MP4
    or QuickTime file, read from its headers (``moov``) without decoding anything."""
    with path.open("rb") as f:
        f.seek(0, 2)
        size = f.tell()
        f.seek(0)
        for kind, start, end in _boxes(f, size):
            if kind == b"moov":
                for track in _tracks(f, start, end):
                    if track.get("handler") == b"vide":
                        return _video(track)
                return {}
    return {}


def _tracks(f: BinaryIO, start: int, end: int) -> Iterator[dict[str, Any]]:
    f.seek(start)
    for kind, s, e in list(_boxes(f, end)):
        if kind == b"trak":
            track: dict[str, Any] = {}
            _read_track(f, s, e, track)
            yield track


def _read_track(f: BinaryIO, start: int, end: int, track: dict[str, Any]) -> None:
    f.seek(start)
    for kind, s, e in list(_boxes(f, end)):
        f.seek(s)
        if kind in _CONTAINERS:
            _read_track(f, s, e, track)
        elif kind == b"tkhd":
            data = f.read(min(e - s, 96))
            offset = 76 if data[0] == 0 else 88
            a, b, _u, c, d = struct.unpack(">iiiii", data[offset - 36 : offset - 16])
            width, height = struct.unpack(">II", data[offset : offset + 8])
            track["width"], track["height"] = width / 65536, height / 65536
            track["turned"] = a == 0 and d == 0 and b != 0 and c != 0
        elif kind == b"mdhd":
            data = f.read(min(e - s, 36))
            if data[0] == 0:
                track["timescale"], track["duration"] = struct.unpack(">II", data[12:20])
            else:
                track["timescale"], track["duration"] = struct.unpack(">IQ", data[20:32])
        elif kind == b"hdlr":
            track["handler"] = f.read(12)[8:12]
        elif kind == b"stsz":
            track["frames"] = struct.unpack(">I", f.read(12)[8:12])[0]


def _video(track: dict[str, Any]) -> dict[str, Any]:
    info: dict[str, Any] = {}
    if track.get("width") and track.get("height"):
        width, height = round(track["width"]), round(track["height"])
        info["width"], info["height"] = (height, width) if track.get("turned") else (width, height)
    seconds = track["duration"] / track["timescale"] if track.get("timescale") else None
    if seconds:
        info["duration"] = seconds
    if track.get("frames"):
        info["frame_count"] = track["frames"]
        if seconds:
            info["fps"] = round(track["frames"] / seconds, 3)
    return info


def read_folder(folder: Path) -> Iterator[ImportRecord]:
    if not folder.is_dir():
        raise ImportRowError(0, f"{folder} is not a folder")
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in KIND_OF
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    for row, path in enumerate(files, start=1):
        kind = KIND_OF[path.suffix.lower()]
        relative = path.relative_to(folder).as_posix()
        try:
            info = media_info(path, kind)
        except Exception as exc:  # any decoder error means the file cannot be used
            raise ImportRowError(row, f"{relative}: unreadable {kind} ({exc})") from None
        ref = file_ref(path)
        yield ImportRecord(row, {kind: ref}, {"filename": relative}, ref, info or None)
