"""Getting data in and out: streaming import readers, streamed exporters, media storage."""

from accord.io.exporters import EXPORTERS, export_stream, exporter
from accord.io.hashing import content_hash as content_hash
from accord.io.hashing import dump_json as dump_json
from accord.io.hashing import search_text as search_text
from accord.io.prefetch import prefetch as prefetch
from accord.io.readers import detect_format, read_records, read_records_from_objects
from accord.io.records import ImportRecord, iter_chunks
from accord.io.storage import LocalStorage, MediaStorage, S3Storage, get_storage

__all__ = [
    "EXPORTERS",
    "ImportRecord",
    "LocalStorage",
    "MediaStorage",
    "S3Storage",
    "content_hash",
    "detect_format",
    "export_stream",
    "exporter",
    "get_storage",
    "iter_chunks",
    "read_records",
    "read_records_from_objects",
    "search_text",
]
