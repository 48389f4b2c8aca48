"""Personal data found at import: one item's entities and the project's summary (reviewers and
managers only: annotators never see where the personal data is)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from accord.api.deps import CurrentUser, ReadSessionDep
from accord.core import items, personal_data, projects
from accord.core.policies import ProjectPolicy, authorize

router = APIRouter(prefix="/projects/{project_id}", tags=["personal data"])


class EntityOut(BaseModel):
    field: str = Field(
        description="data key, or a dotted path for nested strings; meta.<key> in the metadata"
    )
    kind: str
    start: int = Field(description="offsets in the stored text")
    end: int
    action: str = Field(description="flag, mask or redact: what the import did")


class PiiSummaryOut(BaseModel):
    policy: str
    n_items: int
    n_items_with_pii: int
    entities: dict[str, int] = Field(description="entities per kind")
    actions: dict[str, int] = Field(description="entities per action")


@router.get("/items/{item_id}/pii", response_model=list[EntityOut])
def item_pii(
    project_id: int, item_id: int, session: ReadSessionDep, user: CurrentUser
) -> list[EntityOut]:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    item = items.get_item(session, project, item_id)
    return [EntityOut.model_validate(e) for e in personal_data.item_entities(item)]


@router.get("/pii", response_model=PiiSummaryOut)
def project_pii(project_id: int, session: ReadSessionDep, user: CurrentUser) -> PiiSummaryOut:
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    summary = personal_data.project_summary(session, project)
    return PiiSummaryOut.model_validate(summary, from_attributes=True)
