"""``client.duplicates`` and ``client.pii``: duplicate groups and personal data of a project."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from accord.api.payloads import JobOut

if TYPE_CHECKING:
    from accord.sdk.client import Client, ProjectRef


class DuplicatesClient:
    """``client.duplicates``: find exact and near-duplicate items, read the groups, and take the
    redundant items out of the work."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def start_check(
        self,
        project: ProjectRef,
        *,
        methods: Sequence[str] | None = None,
        threshold: float = 0.8,
        max_distance: int = 10,
        cosine: float = 0.95,
        embedder: str | None = None,
    ) -> JobOut:
        """Start the duplicates check in the background; follow it with ``client.wait``."""
        body = {
            "methods": list(methods) if methods is not None else None,
            "threshold": threshold,
            "max_distance": max_distance,
            "cosine": cosine,
            "embedder": embedder,
        }
        pid = self._client._pid(project)
        return JobOut.model_validate(
            self._client._json("POST", f"/projects/{pid}/duplicates/jobs", json=body)
        )

    def check(
        self, project: ProjectRef, *, timeout: float = 3600, **options: Any
    ) -> dict[str, Any]:
        """``start_check``, wait for it, and return its result (the report)."""
        job = self.start_check(project, **options)
        done = self._client.wait(job.id, timeout=timeout)
        if done.status != "finished" or done.result is None:
            from accord.sdk.client import AccordAPIError

            raise AccordAPIError(500, f"duplicates job {job.id} {done.status}: {done.error}")
        return done.result

    def report(self, project: ProjectRef) -> dict[str, Any]:
        """Redundancy rate, groups, the size histogram and the largest groups."""
        pid = self._client._pid(project)
        report: dict[str, Any] = self._client._json("GET", f"/projects/{pid}/duplicates")
        return report

    def group_page(
        self, project: ProjectRef, *, offset: int = 0, limit: int = 20
    ) -> dict[str, Any]:
        """One page of groups, largest first: ``{"groups": [...], "total", "offset", "limit"}``."""
        pid = self._client._pid(project)
        page: dict[str, Any] = self._client._json(
            "GET",
            f"/projects/{pid}/duplicates/groups",
            params={"offset": offset, "limit": limit},
        )
        return page

    def groups(self, project: ProjectRef) -> pd.DataFrame:
        """One row per listed group member (up to 50 per group): group_id, item_id, status,
        method, similarity to the representative, representative, preview."""
        pid = self._client._pid(project)
        rows: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self._client._json(
                "GET",
                f"/projects/{pid}/duplicates/groups",
                params={"offset": offset, "limit": 1000},
            )
            for group in page["groups"]:
                rows += [{"group_id": group["group_id"], **m} for m in group["members"]]
            offset += len(page["groups"])
            if not page["groups"] or offset >= page["total"]:
                break
        columns = [
            "group_id",
            "item_id",
            "status",
            "method",
            "similarity",
            "representative",
            "duplicate_of",
            "preview",
        ]
        return pd.DataFrame(rows, columns=columns)

    def _act(
        self, action: str, project: ProjectRef, group_ids: Sequence[int] | None, **extra: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = (
            {"all": True} if group_ids is None else {"group_ids": list(group_ids)}
        )
        pid = self._client._pid(project)
        result: dict[str, Any] = self._client._json(
            "POST", f"/projects/{pid}/duplicates/{action}", json=body | extra
        )
        return result

    def exclude(
        self, project: ProjectRef, group_ids: Sequence[int] | None = None
    ) -> dict[str, Any]:
        """Redundant members of the groups (None: all) leave the queue."""
        return self._act("exclude", project, group_ids)

    def include(
        self, project: ProjectRef, group_ids: Sequence[int] | None = None
    ) -> dict[str, Any]:
        """Excluded members of the groups (None: every excluded item) are open again."""
        return self._act("include", project, group_ids)

    def merge(self, project: ProjectRef, group_ids: Sequence[int] | None = None) -> dict[str, Any]:
        """Exclude the redundant members and record ``duplicate_of`` in their metadata."""
        return self._act("merge", project, group_ids)

    def drop(
        self,
        project: ProjectRef,
        group_ids: Sequence[int] | None = None,
        *,
        skip_annotated: bool = False,
    ) -> dict[str, Any]:
        """Delete redundant members without annotations (annotated ones refuse the request
        unless ``skip_annotated``)."""
        return self._act("drop", project, group_ids, skip_annotated=skip_annotated)


class PersonalDataClient:
    """``client.pii``: where imports found personal data."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def summary(self, project: ProjectRef) -> dict[str, Any]:
        """The policy, entities per kind and per action, and how many items hold any."""
        pid = self._client._pid(project)
        summary: dict[str, Any] = self._client._json("GET", f"/projects/{pid}/pii")
        return summary

    def item(self, project: ProjectRef, item_id: int) -> pd.DataFrame:
        """The entities of one item: field, kind, start, end (in the stored text), action."""
        pid = self._client._pid(project)
        rows = self._client._json("GET", f"/projects/{pid}/items/{item_id}/pii")
        return pd.DataFrame(rows, columns=["field", "kind", "start", "end", "action"])
