"""``client.vectors`` (item embeddings, vectors from elsewhere, "more like this") and
``client.labeling_functions`` (weak supervision: functions, runs, summary, probabilistic
labels)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from accord.api.payloads import JobOut

if TYPE_CHECKING:
    from accord.sdk.client import Client, ProjectRef

PUT_BATCH = 10_000


def _finished(client: Client, job: JobOut, what: str, timeout: float) -> JobOut:
    from accord.sdk.client import AccordAPIError

    done = client.wait(job.id, timeout=timeout)
    if done.status != "finished":
        raise AccordAPIError(500, f"{what} job {job.id} {done.status}: {done.error}")
    return done


class VectorsClient:
    """``client.vectors``: compute a project's item embeddings, store your own, find similar."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _path(self, project: ProjectRef, rest: str = "") -> str:
        return f"/projects/{self._client._pid(project)}{rest}"

    def start_embedding(self, project: ProjectRef, embedder: str = "tfidf-svd") -> JobOut:
        """Embed every item in the background (``tfidf-svd``, ``tfidf-svd-<dim>`` or
        ``minilm``), replacing that embedder's vectors; follow it with ``client.wait``."""
        body = {"embedder": embedder}
        return JobOut.model_validate(
            self._client._json("POST", self._path(project, "/vectors/jobs"), json=body)
        )

    def embed(
        self, project: ProjectRef, embedder: str = "tfidf-svd", *, timeout: float = 3600
    ) -> dict[str, Any]:
        """``start_embedding`` and wait: ``{"embedder", "dim", "n_items"}``."""
        job = _finished(self._client, self.start_embedding(project, embedder), "embed", timeout)
        return dict(job.result or {})

    def embedders(self, project: ProjectRef) -> pd.DataFrame:
        """One row per embedder (newest first): items with a vector, dimensions, when computed."""
        rows = self._client._json("GET", self._path(project, "/vectors"))
        columns = ["embedder", "count", "dim", "updated_at"]
        return pd.DataFrame(rows, columns=columns).set_index("embedder")

    def put(
        self,
        project: ProjectRef,
        embedder: str,
        vectors: Mapping[int, Sequence[float]],
        *,
        batch: int = PUT_BATCH,
    ) -> int:
        """Store vectors computed elsewhere (image or audio embeddings, your own model) under
        ``embedder``, ``batch`` items per request; each request is all or nothing."""
        items = list(vectors.items())
        stored = 0
        for start in range(0, len(items), batch):
            part = {str(int(i)): [float(x) for x in v] for i, v in items[start : start + batch]}
            done = self._client._json(
                "PUT", self._path(project, f"/vectors/{embedder}"), json={"vectors": part}
            )
            stored += int(done["stored"])
        return stored

    def similar(
        self, project: ProjectRef, item_id: int, k: int = 10, *, embedder: str | None = None
    ) -> pd.DataFrame:
        """The ``k`` most similar items (cosine similarity, best first): item_id, similarity,
        preview and status."""
        params: dict[str, Any] = {"k": k}
        if embedder:
            params["embedder"] = embedder
        found = self._client._json(
            "GET", self._path(project, f"/items/{item_id}/similar"), params=params
        )
        columns = ["item_id", "similarity", "preview", "status"]
        return pd.DataFrame(found["similar"], columns=columns).set_index("item_id")


class LabelingFunctionsClient:
    """``client.labeling_functions``: weak supervision in a project."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _path(self, project: ProjectRef, rest: str = "") -> str:
        return f"/projects/{self._client._pid(project)}/labeling-functions{rest}"

    def list(self, project: ProjectRef) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._client._json("GET", self._path(project))
        return rows

    def create(
        self,
        project: ProjectRef,
        name: str,
        kind: str,
        *,
        label: str | None = None,
        config: Mapping[str, Any] | None = None,
        control: str | None = None,
        active: bool = True,
    ) -> dict[str, Any]:
        """A keyword list (``config={"keywords": [...]}``), a regular expression
        (``{"pattern": ...}``) or a registered Python function (``{"function": name}``)."""
        body = {
            "name": name,
            "kind": kind,
            "label": label,
            "config": dict(config or {}),
            "control": control,
            "active": active,
        }
        row: dict[str, Any] = self._client._json("POST", self._path(project), json=body)
        return row

    def update(self, project: ProjectRef, function_id: int, **changes: Any) -> dict[str, Any]:
        row: dict[str, Any] = self._client._json(
            "PATCH", self._path(project, f"/{function_id}"), json=changes
        )
        return row

    def delete(self, project: ProjectRef, function_id: int) -> None:
        self._client._request("DELETE", self._path(project, f"/{function_id}"))

    def start_run(self, project: ProjectRef, method: str = "dawid_skene") -> JobOut:
        return JobOut.model_validate(
            self._client._json("POST", self._path(project, "/jobs"), json={"method": method})
        )

    def run(
        self, project: ProjectRef, method: str = "dawid_skene", *, timeout: float = 3600
    ) -> dict[str, Any]:
        """Apply the active functions, fit the label model and store its labels as
        predictions; returns the run's report (see ``summary``)."""
        job = _finished(self._client, self.start_run(project, method), "weak-supervision", timeout)
        return dict(job.result or {})

    def summary(self, project: ProjectRef) -> dict[str, Any]:
        """The newest run's report: per control, the functions' table, coverage and the label
        model's accuracy on gold and agreement with human labels and with majority vote."""
        found: dict[str, Any] = self._client._json("GET", self._path(project, "/summary"))
        return dict(found["result"])

    def summary_frame(self, project: ProjectRef, control: str | None = None) -> pd.DataFrame:
        """The newest run's per-function table for one control (default: the first): coverage,
        overlap, conflict, n_gold, correct, accuracy and the accuracy against human labels."""
        controls = self.summary(project)["controls"]
        report = next((c for c in controls if control in (None, c["control"])), None)
        if report is None:
            raise KeyError(f"the newest run has no control {control!r}")
        frame = pd.DataFrame(report["summary"]).set_index("name")
        if report.get("summary_human"):
            human = pd.DataFrame(report["summary_human"]).set_index("name")
            frame["n_human"] = human["n_gold"]
            frame["human_accuracy"] = human["accuracy"]
        return frame

    def predictions(
        self,
        project: ProjectRef,
        *,
        min_score: float = 0.0,
        max_score: float = 1.0,
        page_size: int = 1000,
    ) -> pd.DataFrame:
        """Every stored probabilistic label in the score range, most confident first: item,
        label, score, probabilities and each function's vote."""
        rows: list[dict[str, Any]] = []
        offset = 0
        while True:
            params = {
                "min_score": min_score,
                "max_score": max_score,
                "offset": offset,
                "limit": page_size,
            }
            page = self._client._json("GET", self._path(project, "/predictions"), params=params)
            rows += page["rows"]
            offset += len(page["rows"])
            if not page["rows"] or offset >= page["total"]:
                break
        columns = ["item_id", "control", "label", "score", "probas", "votes", "preview"]
        return pd.DataFrame(rows, columns=[*columns, "status", "model_version", "created_at"])[
            columns
        ].set_index("item_id")
