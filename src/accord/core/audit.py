"""The audit log: one row for every state change, with who, what, when and the ids involved."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from accord.db.models import AuditEvent


def record(
    session: Session,
    *,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None = None,
    project_id: int | None = None,
    before_id: int | None = None,
    after_id: int | None = None,
    **details: Any,
) -> None:
    session.add(
        AuditEvent(
            actor_id=actor_id,
            project_id=project_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before_id=before_id,
            after_id=after_id,
            details=details,
        )
    )


def list_events(
    session: Session, project_id: int | None, *, before: int | None = None, limit: int = 100
) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.project_id == project_id)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    return list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))
