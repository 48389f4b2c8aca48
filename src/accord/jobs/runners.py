"""Job runners behind one small protocol, chosen by settings: in-process threads or RQ."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from accord.config import Settings, get_settings
from accord.db.engine import Database, open_database
from accord.db.models import Job
from accord.jobs import kinds as _kinds  # noqa: F401  (registers the job kinds)
from accord.jobs.registry import KINDS, FollowUp, JobContext, execute

JOB_TIMEOUT_SECONDS = 6 * 3600
Id = int | None


class JobRunner(Protocol):
    name: str

    def submit(self, job_id: int) -> None: ...

    def progress(self, job_id: int) -> int | None: ...

    def shutdown(self) -> None: ...


class InProcessRunner:
    """Worker threads inside the server process: nothing else to run."""

    name = "inprocess"

    def __init__(self, db: Database, settings: Settings, workers: int = 2) -> None:
        self.db = db
        self.settings = settings
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="accord-job")
        self.futures: dict[int, Future[None]] = {}
        self.done: dict[int, int] = {}

    def submit(self, job_id: int) -> None:
        def report(n: int) -> None:
            self.done[job_id] = n

        context = JobContext(self.db, self.settings, report, follow_up_on(self.db, self))
        self.futures[job_id] = self.pool.submit(execute, context, job_id)

    def progress(self, job_id: int) -> int | None:
        return self.done.get(job_id)

    def wait(self, job_id: int, timeout: float | None = None) -> None:
        future = self.futures.pop(job_id, None)
        if future is not None:
            future.result(timeout=timeout)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True)


class InlineRunner:
    """Runs each job at once in the calling thread, and returns when it has ended: what the
    command line uses without a server. A job that queues another runs it at once too."""

    name = "inline"

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.done: dict[int, int] = {}

    def submit(self, job_id: int) -> None:
        def report(n: int) -> None:
            self.done[job_id] = n

        execute(JobContext(self.db, self.settings, report, follow_up_on(self.db, self)), job_id)

    def progress(self, job_id: int) -> int | None:
        return self.done.get(job_id)

    def shutdown(self) -> None:
        """Nothing runs in the background."""


def _progress_key(job_id: int) -> str:
    return f"accord:job:{job_id}:progress"


def run_rq_job(job_id: int) -> None:
    """What `accord worker` processes run: one recorded job, against the worker's own settings
    (the same ACCORD_DATABASE_URL and storage as the server's)."""
    from redis import Redis

    settings = get_settings()
    assert settings.redis_url, "workers need ACCORD_REDIS_URL"
    redis = Redis.from_url(settings.redis_url)
    db = open_database(settings)

    def report(n: int) -> None:
        redis.set(_progress_key(job_id), n, ex=JOB_TIMEOUT_SECONDS)

    def follow_up(kind: str, params: dict[str, Any], project: Id, user: Id) -> int:
        runner = RQRunner(settings.redis_url or "", settings.rq_queue)
        try:
            return enqueue(db, runner, kind, params, project_id=project, user_id=user)
        finally:
            runner.shutdown()

    try:
        execute(JobContext(db, settings, report, follow_up), job_id)
    finally:
        db.dispose()
        redis.close()


class RQRunner:
    """Jobs on Redis through RQ, run by `accord worker` processes on any number of machines."""

    name = "rq"

    def __init__(self, redis_url: str, queue: str) -> None:
        from redis import Redis
        from rq import Queue

        self.redis = Redis.from_url(redis_url)
        self.queue = Queue(queue, connection=self.redis)

    def submit(self, job_id: int) -> None:
        self.queue.enqueue(run_rq_job, job_id, job_timeout=JOB_TIMEOUT_SECONDS)

    def progress(self, job_id: int) -> int | None:
        value = self.redis.get(_progress_key(job_id))
        return int(value) if value is not None else None

    def shutdown(self) -> None:
        self.redis.close()


def make_runner(settings: Settings, db: Database) -> JobRunner:
    if settings.redis_url:
        return RQRunner(settings.redis_url, settings.rq_queue)
    return InProcessRunner(db, settings)


def follow_up_on(db: Database, runner: JobRunner) -> FollowUp:
    """Queue jobs (kind, params, project id, user id) on ``runner``: for jobs that queue others
    and for requests that queue a job after their own work."""

    def follow_up(kind: str, params: dict[str, Any], project: Id, user: Id) -> int:
        return enqueue(db, runner, kind, params, project_id=project, user_id=user)

    return follow_up


def enqueue(
    db: Database,
    runner: JobRunner,
    kind: str,
    params: dict[str, Any],
    *,
    project_id: int | None,
    user_id: int | None,
) -> int:
    """Record a job, commit, then hand it to the runner (so a worker always finds its row)."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    with db.transaction() as session:
        job = Job(kind=kind, params=params, project_id=project_id, created_by=user_id)
        session.add(job)
        session.flush()
        job_id = job.id
    runner.submit(job_id)
    return job_id
