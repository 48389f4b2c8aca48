"""Job runners behind one small protocol, chosen by settings: in-process threads or RQ."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from accord.config import Settings
from accord.db.engine import Database, open_database
from accord.db.models import Job
from accord.jobs.registry import KINDS, execute

RQ_QUEUE = "accord"


class JobRunner(Protocol):
    name: str

    def submit(self, job_id: int) -> None: ...

    def shutdown(self) -> None: ...


class InProcessRunner:
    """Two worker threads inside the server process: nothing else to run."""

    name = "inprocess"

    def __init__(self, db: Database, workers: int = 2) -> None:
        self.db = db
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="accord-job")
        self.futures: dict[int, Future[None]] = {}

    def submit(self, job_id: int) -> None:
        self.futures[job_id] = self.pool.submit(execute, self.db, job_id)

    def wait(self, job_id: int, timeout: float | None = None) -> None:
        future = self.futures.pop(job_id, None)
        if future is not None:
            future.result(timeout=timeout)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True)


def run_rq_job(database_url: str, job_id: int) -> None:
    """Entry point of RQ workers (`accord worker`): executes a job against the given database."""
    from accord.config import get_settings

    db = open_database(get_settings(), database_url)
    try:
        execute(db, job_id)
    finally:
        db.dispose()


class RQRunner:
    """Jobs on Redis through RQ, run by `accord worker` processes on any number of machines."""

    name = "rq"

    def __init__(self, db: Database, redis_url: str) -> None:
        from redis import Redis
        from rq import Queue

        self.db = db
        self.redis = Redis.from_url(redis_url)
        self.queue = Queue(RQ_QUEUE, connection=self.redis)

    def submit(self, job_id: int) -> None:
        self.queue.enqueue(run_rq_job, self.db.url, job_id, job_timeout=6 * 3600)

    def shutdown(self) -> None:
        self.redis.close()


def make_runner(settings: Settings, db: Database) -> JobRunner:
    if settings.redis_url:
        return RQRunner(db, settings.redis_url)
    return InProcessRunner(db)


def enqueue(
    db: Database,
    runner: JobRunner,
    kind: str,
    params: dict[str, Any],
    *,
    project_id: int | None,
    user_id: int | None,
) -> int:
    """Record a job and hand it to the runner; the job's row tells its state from then on."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    with db.transaction() as session:
        job = Job(kind=kind, params=params, project_id=project_id, created_by=user_id)
        session.add(job)
        session.flush()
        job_id = job.id
    runner.submit(job_id)
    return job_id
