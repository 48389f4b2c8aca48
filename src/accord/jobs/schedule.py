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


def queue_due_retrains(db: Database, runner: JobRunner) -> list[int]:
    """Queue a model_train job for every model due a retrain; returns the job ids."""
    from accord.core import model_backends

    with db.transaction(write=False) as session:
        due = [
            (b, model_backends.project_of(session, b)) for b in model_backends.due_retrains(session)
        ]
    return [
        enqueue(
            db,
            runner,
            model_backends.JOB_KIND,
            {"backend_id": b, "mode": "train", "trigger": "new labels"},
            project_id=project_id,
            user_id=None,
        )
        for b, project_id in due
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
            try:
                queue_due_retrains(self._db, self._runner)
            except Exception:
                log.exception("model retrain pass failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
