"""Media folders: import files referenced in place or copied into the configured storage."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from accord.core.imports import ImportReport, run_import
from accord.db.engine import Database
from accord.errors import InvalidInput
from accord.io import ImportRecord, MediaStorage, read_records


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
