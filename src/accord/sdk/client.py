"""A typed client for the REST API, returning the same pydantic models the server sends."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from accord.api.payloads import (
    AnnotationOut,
    ImportOut,
    ItemOut,
    ItemPage,
    JobOut,
    LeaseOut,
    NewTokenOut,
    ProjectOut,
    SchemaVersionOut,
    UserOut,
)
from accord.sdk.duplicates import DuplicatesClient, PersonalDataClient
from accord.sdk.models import ModelsClient
from accord.sdk.weak_supervision import LabelingFunctionsClient, VectorsClient

ProjectRef = int | str


class AccordAPIError(Exception):
    """The server refused a request; ``errors`` says which field broke which rule."""

    def __init__(
        self, status: int, detail: str, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.errors = errors or []


class Client:
    """``Client("http://localhost:8000", token="acc_…")``; projects may be named by id or name."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 300.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=url.rstrip("/") + "/api/v1",
            headers=headers,
            timeout=timeout,
            transport=transport,
        )
        self._project_ids: dict[str, int] = {}
        self.quality = QualityClient(self)
        self.vectors = VectorsClient(self)
        self.labeling_functions = LabelingFunctionsClient(self)
        self.models = ModelsClient(self)
        self.duplicates = DuplicatesClient(self)
        self.pii = PersonalDataClient(self)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- plumbing --------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
                detail, errors = str(body.get("detail", response.text)), body.get("errors", [])
            except ValueError:
                detail, errors = response.text or response.reason_phrase, []
            raise AccordAPIError(response.status_code, detail, errors)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._request(method, path, **kwargs).json()

    def _pid(self, project: ProjectRef) -> int:
        if isinstance(project, int):
            return project
        if project not in self._project_ids:
            for p in self.projects():
                self._project_ids[p.name] = p.id
        try:
            return self._project_ids[project]
        except KeyError:
            raise AccordAPIError(404, f"project {project!r} not found") from None

    # -- users and tokens ------------------------------------------------------------------
    def me(self) -> UserOut:
        return UserOut.model_validate(self._json("GET", "/auth/me"))

    def create_user(
        self, username: str, password: str | None = None, *, is_admin: bool = False
    ) -> UserOut:
        body = {"username": username, "password": password, "is_admin": is_admin}
        return UserOut.model_validate(self._json("POST", "/users", json=body))

    def create_token(self, name: str = "sdk") -> NewTokenOut:
        return NewTokenOut.model_validate(self._json("POST", "/tokens", json={"name": name}))

    # -- projects and schema ---------------------------------------------------------------
    def projects(self) -> list[ProjectOut]:
        return [ProjectOut.model_validate(p) for p in self._json("GET", "/projects")]

    def project(self, project: ProjectRef) -> ProjectOut:
        return ProjectOut.model_validate(self._json("GET", f"/projects/{self._pid(project)}"))

    def create_project(
        self,
        name: str,
        schema: Mapping[str, Any] | str,
        *,
        guidelines: str = "",
        description: str = "",
        overlap: int = 1,
        lease_seconds: int = 1800,
        strategy: str = "sequential",
    ) -> ProjectOut:
        body = {
            "name": name,
            "schema": schema,
            "guidelines": guidelines,
            "description": description,
            "overlap": overlap,
            "lease_seconds": lease_seconds,
            "strategy": strategy,
        }
        created = ProjectOut.model_validate(self._json("POST", "/projects", json=body))
        self._project_ids[created.name] = created.id
        return created

    def update_project(self, project: ProjectRef, **settings: Any) -> ProjectOut:
        return ProjectOut.model_validate(
            self._json("PATCH", f"/projects/{self._pid(project)}", json=settings)
        )

    def set_stratified_order(
        self,
        project: ProjectRef,
        stratify_by: str,
        shares: Mapping[str, float] | None = None,
    ) -> ProjectOut:
        """Give items out group by group of the metadata field ``stratify_by``: with ``shares``
        (e.g. ``{"en": 0.5, "de": 0.3, "*": 0.2}``; "*" is split among the groups not named)
        each annotator's items follow them; without, every group is equally likely."""
        return self.update_project(
            project,
            strategy="stratified",
            stratify_by=stratify_by,
            stratify_shares=dict(shares or {}),
        )

    def schema(self, project: ProjectRef) -> SchemaVersionOut:
        return SchemaVersionOut.model_validate(
            self._json("GET", f"/projects/{self._pid(project)}/schema")
        )

    def publish_schema(
        self,
        project: ProjectRef,
        schema: Mapping[str, Any] | str | None = None,
        *,
        guidelines: str | None = None,
        change_note: str = "",
    ) -> SchemaVersionOut:
        body = {"schema": schema, "guidelines": guidelines, "change_note": change_note}
        return SchemaVersionOut.model_validate(
            self._json("PUT", f"/projects/{self._pid(project)}/schema", json=body)
        )

    def upload_guideline_image(self, project: ProjectRef, path: str | Path) -> dict[str, Any]:
        """Store a PNG, JPEG, GIF or WebP image for the guidelines (managers); the answer's
        ``markdown`` shows it when put in the guidelines. The same file always gives the same
        ``url``."""
        path = Path(path)
        with path.open("rb") as stream:
            answer: dict[str, Any] = self._json(
                "POST",
                f"/projects/{self._pid(project)}/guideline-images",
                files={"file": (path.name, stream)},
            )
        return answer

    def schema_versions(self, project: ProjectRef) -> list[SchemaVersionOut]:
        rows = self._json("GET", f"/projects/{self._pid(project)}/schema/versions")
        return [SchemaVersionOut.model_validate(v) for v in rows]

    def set_member(self, project: ProjectRef, username: str, role: str) -> None:
        self._request(
            "PUT", f"/projects/{self._pid(project)}/members/{username}", json={"role": role}
        )

    # -- import ----------------------------------------------------------------------------
    def import_file(
        self,
        project: ProjectRef,
        path: str | Path,
        *,
        format: str | None = None,
        check_duplicates: bool = True,
    ) -> ImportOut:
        """Import a file at once; the duplicates check the server then queues is
        ``duplicates_job_id`` (None with ``check_duplicates=False``)."""
        path = Path(path)
        with path.open("rb") as stream:
            files = {"file": (path.name, stream)}
            data = _import_form(format, check_duplicates)
            return ImportOut.model_validate(
                self._json(
                    "POST", f"/projects/{self._pid(project)}/imports", files=files, data=data
                )
            )

    def start_import(
        self,
        project: ProjectRef,
        path: str | Path,
        *,
        format: str | None = None,
        check_duplicates: bool = True,
    ) -> JobOut:
        """Upload a file and import it as a background job; see ``job`` and ``wait``."""
        path = Path(path)
        with path.open("rb") as stream:
            files = {"file": (path.name, stream)}
            data = _import_form(format, check_duplicates)
            return JobOut.model_validate(
                self._json(
                    "POST", f"/projects/{self._pid(project)}/import-jobs", files=files, data=data
                )
            )

    def job(self, job_id: int) -> JobOut:
        return JobOut.model_validate(self._json("GET", f"/jobs/{job_id}"))

    def wait(self, job_id: int, *, timeout: float = 3600, poll: float = 0.5) -> JobOut:
        """The job once it has finished or failed (raises TimeoutError after ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        while (job := self.job(job_id)).status in ("queued", "running"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} is still {job.status} after {timeout} s")
            time.sleep(poll)
        return job

    def import_items(
        self,
        project: ProjectRef,
        items: Sequence[Mapping[str, Any]],
        *,
        check_duplicates: bool = True,
    ) -> ImportOut:
        """Import a list of dicts (each the item's data, or {"data": …, "meta": …})."""
        body: dict[str, Any] = {"items": list(items)}
        if not check_duplicates:
            body["check_duplicates"] = False
        return ImportOut.model_validate(
            self._json("POST", f"/projects/{self._pid(project)}/items", json=body)
        )

    def import_dataframe(
        self,
        project: ProjectRef,
        frame: pd.DataFrame,
        *,
        name: str = "dataframe",
        check_duplicates: bool = True,
    ) -> ImportOut:
        """Import a DataFrame whole (as Parquet, keeping types): columns become data keys,
        ``meta.<key>`` columns become metadata."""
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        buffer.seek(0)
        files = {"file": (f"{name}.parquet", buffer)}
        data = _import_form(None, check_duplicates)
        return ImportOut.model_validate(
            self._json("POST", f"/projects/{self._pid(project)}/imports", files=files, data=data)
        )

    def set_batch_priority(self, project: ProjectRef, batch_id: int, priority: int) -> ImportOut:
        """Items of higher-priority import batches are given out first."""
        return ImportOut.model_validate(
            self._json(
                "PATCH",
                f"/projects/{self._pid(project)}/imports/{batch_id}",
                json={"priority": priority},
            )
        )

    # -- gold items -------------------------------------------------------------------------
    def set_gold(self, project: ProjectRef, item_id: int, result: Mapping[str, Any]) -> None:
        """Make an item gold with this known answer (or change its answer)."""
        pid = self._pid(project)
        self._json("PUT", f"/projects/{pid}/items/{item_id}/gold", json={"result": dict(result)})

    def unset_gold(self, project: ProjectRef, item_id: int) -> None:
        self._request("DELETE", f"/projects/{self._pid(project)}/items/{item_id}/gold")

    def gold(self, project: ProjectRef) -> dict[int, dict[str, Any]]:
        """Every gold item's known answer, by item id (managers only)."""
        pid, after = self._pid(project), 0
        found: dict[int, dict[str, Any]] = {}
        while page := self._json("GET", f"/projects/{pid}/gold", params={"after": after}):
            found |= {g["item_id"]: g["result"] for g in page}
            after = page[-1]["item_id"]
        return found

    def resume(self, project: ProjectRef, username: str) -> None:
        """Let an annotator paused by the gold rule work again."""
        self._json("POST", f"/projects/{self._pid(project)}/members/{username}/resume")

    # -- the labeling loop -----------------------------------------------------------------
    def next(self, project: ProjectRef) -> LeaseOut | None:
        response = self._request("POST", f"/projects/{self._pid(project)}/next")
        return None if response.status_code == 204 else LeaseOut.model_validate(response.json())

    def submit(
        self,
        project: ProjectRef,
        item_id: int,
        result: Mapping[str, Any],
        *,
        lead_time: float | None = None,
    ) -> AnnotationOut:
        body = {"result": dict(result), "lead_time": lead_time}
        return AnnotationOut.model_validate(
            self._json(
                "POST", f"/projects/{self._pid(project)}/items/{item_id}/annotations", json=body
            )
        )

    def skip(self, project: ProjectRef, item_id: int, reason: str = "") -> AnnotationOut:
        return AnnotationOut.model_validate(
            self._json(
                "POST",
                f"/projects/{self._pid(project)}/items/{item_id}/skip",
                json={"reason": reason},
            )
        )

    def release(self, project: ProjectRef, item_id: int) -> None:
        self._request("POST", f"/projects/{self._pid(project)}/items/{item_id}/release")

    def revise(
        self, project: ProjectRef, annotation_id: int, result: Mapping[str, Any]
    ) -> AnnotationOut:
        return AnnotationOut.model_validate(
            self._json(
                "PUT",
                f"/projects/{self._pid(project)}/annotations/{annotation_id}",
                json={"result": dict(result)},
            )
        )

    # -- reading ---------------------------------------------------------------------------
    def items(
        self, project: ProjectRef, *, page_size: int = 500, **filters: Any
    ) -> Iterator[ItemOut]:
        params = {k: v for k, v in filters.items() if v is not None} | {"limit": page_size}
        path = f"/projects/{self._pid(project)}/items"
        while True:
            page = ItemPage.model_validate(self._json("GET", path, params=params))
            yield from page.items
            if page.next_after is None:
                return
            params["after"] = page.next_after

    def annotations(
        self, project: ProjectRef, *, annotator: str | None = None, item: int | None = None
    ) -> Iterator[AnnotationOut]:
        params: dict[str, Any] = {"limit": 1000}
        if annotator:
            params["annotator"] = annotator
        if item is not None:
            params["item"] = item
        path = f"/projects/{self._pid(project)}/annotations"
        while True:
            page = [AnnotationOut.model_validate(a) for a in self._json("GET", path, params=params)]
            yield from page
            if len(page) < params["limit"]:
                return
            params["after"] = page[-1].id

    def export(
        self, project: ProjectRef, path: str | Path, *, format: str = "jsonl", **filters: Any
    ) -> Path:
        """Stream an export to a file without holding it in memory."""
        path = Path(path)
        params = {k: v for k, v in filters.items() if v is not None} | {"format": format}
        with self._http.stream(
            "GET", f"/projects/{self._pid(project)}/export", params=params
        ) as response:
            if response.status_code >= 400:
                response.read()
                body = response.json()
                raise AccordAPIError(
                    response.status_code, body.get("detail", ""), body.get("errors")
                )
            with path.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
        return path

    def export_dataframe(self, project: ProjectRef, **filters: Any) -> pd.DataFrame:
        """One row per (item, annotation): item_id, data and meta, annotator, result columns."""
        params = {k: v for k, v in filters.items() if v is not None} | {"format": "jsonl"}
        rows: list[dict[str, Any]] = []
        with self._http.stream(
            "GET", f"/projects/{self._pid(project)}/export", params=params
        ) as response:
            if response.status_code >= 400:
                response.read()
                raise AccordAPIError(response.status_code, response.text)
            for line in response.iter_lines():
                if line:
                    rows.extend(_flatten(json.loads(line)))
        return pd.DataFrame(rows)


def _import_form(format: str | None, check_duplicates: bool) -> dict[str, str]:
    """The form fields of a file import (the server's defaults are left out)."""
    data = {"format": format} if format else {}
    if not check_duplicates:
        data["check_duplicates"] = "false"
    return data


def _flatten(item: dict[str, Any]) -> list[dict[str, Any]]:
    base = {"item_id": item["id"]}
    base |= {f"data.{k}": v for k, v in item["data"].items()}
    base |= {f"meta.{k}": v for k, v in (item.get("meta") or {}).items()}
    annotations = item.get("annotations") or []
    if not annotations:
        return [base]
    out = []
    for a in annotations:
        row = base | {
            "annotation_id": a["id"],
            "annotator": a["annotator"],
            "lead_time": a["lead_time"],
            "created_at": a["created_at"],
        }
        row |= {f"result.{k}": v for k, v in a["result"].items()}
        out.append(row)
    return out


class QualityClient:
    """``client.quality``: agreement and consensus of a project's labels, as DataFrames."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def agreement(
        self, project: ProjectRef, *, control: str | None = None, n_boot: int = 500
    ) -> pd.DataFrame:
        """One row per statistic (percent agreement, Fleiss' kappa, Krippendorff's alpha, Gwet's
        AC1): value and bootstrap interval. Per-label and per-annotator tables are in
        ``agreement_report``."""
        report = self.agreement_report(project, control=control, n_boot=n_boot)
        return pd.DataFrame(report["overall"]).set_index("statistic")

    def agreement_report(
        self, project: ProjectRef, *, control: str | None = None, n_boot: int = 500
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"n_boot": n_boot}
        if control:
            params["control"] = control
        pid = self._client._pid(project)
        report: dict[str, Any] = self._client._json(
            "GET", f"/projects/{pid}/quality/agreement", params=params
        )
        return report

    def consensus(
        self,
        project: ProjectRef,
        method: str = "dawid_skene",
        *,
        control: str | None = None,
        **params: Any,
    ) -> pd.DataFrame:
        """Compute (and store on the server) the consensus label of every item with ``method``;
        one row per item: label, confidence, number of labels."""
        pid = self._client._pid(project)
        body = {"control": control, "method": method, "params": params}
        done = self._client._json("POST", f"/projects/{pid}/quality/consensus", json=body)
        rows: list[dict[str, Any]] = []
        after = 0
        while True:
            page = self._client._json(
                "GET",
                f"/projects/{pid}/quality/consensus",
                params={"control": done["control"], "after": after, "limit": 5000},
            )
            rows += page
            if len(page) < 5000:
                break
            after = page[-1]["item_id"]
        columns = ["item_id", "label", "confidence", "n_labels"]
        return pd.DataFrame(rows, columns=[*columns, "method", "params"])[columns].set_index(
            "item_id"
        )

    def gold_accuracy(self, project: ProjectRef) -> pd.DataFrame:
        """Per annotator: answers to gold items, correct ones, accuracy with its 95% Wilson
        interval and whether the gold rule paused them (an annotator gets only their own row)."""
        pid = self._client._pid(project)
        rows = self._client._json("GET", f"/projects/{pid}/gold/accuracy")
        columns = ["username", "n_answers", "n_correct", "accuracy", "low", "high", "paused"]
        return pd.DataFrame(rows, columns=columns).set_index("username")

    def start_run(self, project: ProjectRef, method: str | None = None, **params: Any) -> JobOut:
        """Start the project's quality job in the background: consensus, annotator skills,
        suspected errors and the agreement report of every single-choice control; ``method``
        defaults to the project's quality method. Follow it with ``client.wait``."""
        pid = self._client._pid(project)
        body = {"method": method, "params": params}
        return JobOut.model_validate(
            self._client._json("POST", f"/projects/{pid}/quality/jobs", json=body)
        )

    def run(
        self,
        project: ProjectRef,
        method: str | None = None,
        *,
        timeout: float = 3600,
        **params: Any,
    ) -> pd.DataFrame:
        """``start_run``, wait for it, and return ``runs``."""
        job = self.start_run(project, method, **params)
        done = self._client.wait(job.id, timeout=timeout)
        if done.status != "finished":
            raise AccordAPIError(500, f"quality job {job.id} {done.status}: {done.error}")
        return self.runs(project)

    def runs(self, project: ProjectRef) -> pd.DataFrame:
        """The newest quality run of each control: one row per control with the method, counts,
        seconds and the stored agreement report (column ``report``)."""
        pid = self._client._pid(project)
        rows = self._client._json("GET", f"/projects/{pid}/quality/runs")
        columns = [
            "control",
            "id",
            "job_id",
            "method",
            "params",
            "n_items",
            "n_labels",
            "n_annotators",
            "n_suspects",
            "seconds",
            "computed_at",
            "report",
        ]
        return pd.DataFrame(rows, columns=columns).set_index("control")

    def skills(self, project: ProjectRef, *, control: str | None = None) -> pd.DataFrame:
        """One row per annotator: the method's skill estimate, agreement with the consensus and
        number of labels, from the newest quality run."""
        pid = self._client._pid(project)
        params = {"control": control} if control else {}
        rows = self._client._json("GET", f"/projects/{pid}/quality/skills", params=params)
        columns = ["annotator", "skill", "agreement", "n_labels", "method", "control"]
        return pd.DataFrame(rows, columns=columns).set_index("annotator")

    def suspects(
        self, project: ProjectRef, *, status: str = "open", control: str | None = None
    ) -> pd.DataFrame:
        """Suspected label errors, most suspicious first: one row per (item, control) with the
        given label, the suggested one, the score, sources and reasons."""
        pid = self._client._pid(project)
        params: dict[str, Any] = {"status": status, "limit": 5000}
        if control:
            params["control"] = control
        rows: list[dict[str, Any]] = []
        while True:
            page = self._client._json("GET", f"/projects/{pid}/quality/suspects", params=params)
            rows += page
            if len(page) < params["limit"]:
                break
            params["after_item"] = page[-1]["item_id"]
        columns = [
            "item_id",
            "control",
            "label",
            "suggested_label",
            "score",
            "sources",
            "reasons",
            "status",
        ]
        return pd.DataFrame(rows, columns=columns)

    def resolve_suspect(self, project: ProjectRef, item_id: int, status: str) -> None:
        """Mark the suspicion on an item ``confirmed`` (the label is wrong) or ``dismissed``."""
        pid = self._client._pid(project)
        self._client._json(
            "POST", f"/projects/{pid}/quality/suspects/{item_id}", json={"status": status}
        )
