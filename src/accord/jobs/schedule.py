"""The quality refresh schedule: while the server runs, a thread looks every few seconds for
projects with enough new annotations and queues a quality job for each."""

from __future__ import annotations

import logging
import threading

from accord.core import quality_runs
from accord.db.engine import Database
from accord.jobs.runners import JobRunner, enqueue

log = logging.getLogger(__name__)


def queue_due_quality_runs(db: Database, runner: JobRunner) -> list[int]:
    """Queue a quality job for every project that is due one; returns the job ids."""
    with db.transaction(write=False) as session:
        due = quality_runs.refresh_due(session)
    return [
        enqueue(db, runner, "quality", {"trigger": "new annotations"}, project_id=p, user_id=None)
        for p in due
    ]


class QualitySchedule:
    def __init__(self, db: Database, runner: JobRunner, every_seconds: float) -> None:
        self._db, self._runner, self._every = db, runner, every_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="accord-quality", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            try:
                queue_due_quality_runs(self._db, self._runner)
            except Exception:  # the schedule must outlive a bad pass (e.g. a locked database)
                log.exception("quality schedule pass failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
