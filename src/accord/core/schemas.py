"""A project's current schema version, and parsed schemas kept by their canonical text: versions
never change, parsing is not free."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from accord.db.engine import keep_loaded
from accord.db.models import Project, SchemaVersion
from accord.errors import NotFound
from accord.schema import LabelingSchema, parse_schema

_CACHE: dict[str, LabelingSchema] = {}
_CACHE_LIMIT = 256


def parsed_schema(document: dict[str, Any]) -> LabelingSchema:
    key = json.dumps(document, sort_keys=True, separators=(",", ":"))
    schema = _CACHE.get(key)
    if schema is None:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        schema = _CACHE[key] = parse_schema(document)
    return schema


def current_schema(session: Session, project: Project) -> SchemaVersion:
    """The project's current schema version (with its guidelines)."""
    if project.schema_version_id is None:
        raise NotFound(f"project {project.id} has no schema")
    version = session.get(SchemaVersion, project.schema_version_id)
    assert version is not None
    return keep_loaded(session, version)  # asked for several times in one request
