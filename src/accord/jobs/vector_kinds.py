"""Job kinds of embeddings and weak supervision: ``embed`` (compute and store a project's item
vectors) and ``weak_supervision`` (apply the labeling functions, fit the label model, store the
probabilistic labels as predictions); progress counts items."""

from __future__ import annotations

from typing import Any

from accord.core import vectors, weak_supervision_runs
from accord.db.models import Job
from accord.errors import InvalidInput
from accord.jobs.registry import JobContext, job_kind


@job_kind("embed")
def embed(context: JobContext, job: Job) -> dict[str, Any]:
    if job.project_id is None:
        raise InvalidInput("an embed job needs a project")
    return vectors.run_embedding(
        context.db,
        job.project_id,
        job.params.get("embedder") or "tfidf-svd",
        actor_id=job.created_by,
        progress=context.progress,
    )


@job_kind("weak_supervision")
def weak_supervision(context: JobContext, job: Job) -> dict[str, Any]:
    if job.project_id is None:
        raise InvalidInput("a weak-supervision job needs a project")
    return weak_supervision_runs.run_weak_supervision(
        context.db,
        job.project_id,
        method=job.params.get("method") or "dawid_skene",
        actor_id=job.created_by,
        progress=context.progress,
    )
