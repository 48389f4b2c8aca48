"""Job kinds by name, and the one function every runner calls to execute a recorded job."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accord.config import Settings
from accord.db.engine import Database
from accord.db.models import Job, utcnow
from accord.errors import AccordError

log = logging.getLogger(__name__)


FollowUp = Callable[[str, dict[str, Any], int | None, int | None], int]
"""Queue another job (kind, params, project id, user id) on the runner of the running one."""


@dataclass(frozen=True)
class JobContext:
    """What a running job may use. ``progress`` takes the number of units done so far; it is
    kept outside the database, because an import holds SQLite's write lock while it runs.
    ``follow_up`` queues another job on the same runner (None where jobs run inline)."""

    db: Database
    settings: Settings
    progress: Callable[[int], None]
    follow_up: FollowUp | None = None


JobFunction = Callable[[JobContext, Job], dict[str, Any]]
KINDS: dict[str, JobFunction] = {}


def job_kind(name: str) -> Callable[[JobFunction], JobFunction]:
    def register(func: JobFunction) -> JobFunction:
        KINDS[name] = func
        return func

    return register


def execute(context: JobContext, job_id: int) -> None:
    """Run a queued job and record its outcome; a failure is stored, never raised to the runner."""
    db = context.db
    with db.transaction() as session:
        job = session.get(Job, job_id)
        if job is None or job.status != "queued":
            return
        job.status, job.started_at = "running", utcnow()
    try:
        result = KINDS[job.kind](context, job)
    except AccordError as exc:
        outcome: dict[str, Any] = {"status": "failed", "error": exc.message}
    except Exception as exc:  # a job must end in a recorded state whatever happened
        log.exception("job %s failed", job_id)
        outcome = {
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}",
        }
    else:
        outcome = {"status": "finished", "result": result}
    with db.transaction() as session:
        stored = session.get(Job, job_id)
        assert stored is not None
        stored.status = outcome["status"]
        stored.result = outcome.get("result")
        stored.error = outcome.get("error")
        stored.finished_at = utcnow()
