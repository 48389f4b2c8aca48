"""``client.models``: a project's model backends, their training jobs and the acceptance of
their pre-labels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from accord.api.payloads import JobOut

if TYPE_CHECKING:
    from accord.sdk.client import Client, ProjectRef


class ModelsClient:
    """``client.models``: list, create, change, train and delete models; acceptance rates."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _path(self, project: ProjectRef, rest: str = "") -> str:
        return f"/projects/{self._client._pid(project)}/models{rest}"

    def list(self, project: ProjectRef) -> list[dict[str, Any]]:
        """Every model of the project: kind, control, config, version, fitted_at,
        labels_at_fit, retrain_every, active, the last error and the last run's counts."""
        rows: list[dict[str, Any]] = self._client._json("GET", self._path(project))
        return rows

    def get(self, project: ProjectRef, backend_id: int) -> dict[str, Any]:
        row: dict[str, Any] = self._client._json("GET", self._path(project, f"/{backend_id}"))
        return row

    def create(
        self,
        project: ProjectRef,
        name: str,
        kind: str,
        control: str,
        config: Mapping[str, Any] | None = None,
        *,
        retrain_every: int = 0,
        active: bool = True,
    ) -> dict[str, Any]:
        """Add a model; a configuration its kind rejects raises AccordAPIError (422) whose
        ``errors`` name the field, e.g. ``config.url``."""
        body = {
            "name": name,
            "kind": kind,
            "control": control,
            "config": dict(config or {}),
            "retrain_every": retrain_every,
            "active": active,
        }
        row: dict[str, Any] = self._client._json("POST", self._path(project), json=body)
        return row

    def update(self, project: ProjectRef, backend_id: int, **changes: Any) -> dict[str, Any]:
        """Change some settings (name, kind, control, config, retrain_every, active)."""
        row: dict[str, Any] = self._client._json(
            "PATCH", self._path(project, f"/{backend_id}"), json=changes
        )
        return row

    def delete(self, project: ProjectRef, backend_id: int) -> None:
        """Delete the model and its pre-labels."""
        self._client._request("DELETE", self._path(project, f"/{backend_id}"))

    def train(
        self,
        project: ProjectRef,
        backend_id: int,
        *,
        mode: str = "train",
        wait: bool = True,
        timeout: float = 3600,
    ) -> JobOut:
        """Start the model's job (``train``: fit on the human labels, then predict every open
        item; ``predict``: only predict, for models that do not learn). With ``wait`` the job
        is returned once it has ended, and a failed job raises AccordAPIError with its error."""
        job = JobOut.model_validate(
            self._client._json(
                "POST", self._path(project, f"/{backend_id}/jobs"), json={"mode": mode}
            )
        )
        if not wait:
            return job
        from accord.sdk.client import AccordAPIError

        done = self._client.wait(job.id, timeout=timeout)
        if done.status != "finished":
            raise AccordAPIError(500, f"model job {job.id} {done.status}: {done.error}")
        return done

    def acceptance(self, project: ProjectRef) -> pd.DataFrame:
        """One row per (model_name, model_version): answers given with its pre-label
        (n_prelabelled), answers that kept it unchanged (n_accepted) and the rate."""
        rows = self._client._json("GET", self._path(project, "/acceptance"))
        columns = ["model_name", "model_version", "n_prelabelled", "n_accepted", "rate"]
        return pd.DataFrame(rows, columns=columns).set_index(["model_name", "model_version"])

    def refresh_queue_scores(
        self, project: ProjectRef, *, budget: int | None = None
    ) -> dict[str, Any]:
        """Recompute the model-driven queue's priorities now."""
        body = {"budget": budget} if budget is not None else {}
        done: dict[str, Any] = self._client._json(
            "POST", self._path(project, "/queue-scores"), json=body
        )
        return done
