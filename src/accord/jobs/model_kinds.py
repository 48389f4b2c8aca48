"""The job kind of models in the loop: ``model_train`` fits a project's model on the human
labels and stores its predictions as pre-labels (``mode: "predict"`` only predicts, for models
that do not learn)."""

from __future__ import annotations

from typing import Any

from accord.core import model_training
from accord.db.models import Job
from accord.errors import InvalidInput
from accord.jobs.registry import JobContext, job_kind


@job_kind("model_train")
def model_train(context: JobContext, job: Job) -> dict[str, Any]:
    """Progress counts the open items predicted so far."""
    backend_id = job.params.get("backend_id")
    if not isinstance(backend_id, int):
        raise InvalidInput("a model_train job needs the model's backend_id")
    return model_training.run_model(
        context.db,
        backend_id,
        mode=str(job.params.get("mode", "train")),
        job_id=job.id,
        actor_id=job.created_by,
        progress=context.progress,
    )
