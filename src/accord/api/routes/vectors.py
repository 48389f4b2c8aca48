"""Item embeddings: computing them in the background, listing a project's embedders, storing
vectors computed elsewhere (any modality) and "more like this" for one item."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from accord.api.deps import CurrentUser, DatabaseDep, ReadSessionDep, RunnerDep, SessionDep
from accord.api.payloads import JobOut
from accord.core import projects, vectors
from accord.core.policies import ProjectPolicy, authorize
from accord.db.models import Job
from accord.jobs.runners import enqueue

router = APIRouter(prefix="/projects/{project_id}", tags=["vectors"])

MAX_PUT = 50_000


class EmbedJobIn(BaseModel):
    embedder: str = Field(
        default="tfidf-svd", description="tfidf-svd (128 dimensions), tfidf-svd-<dim> or minilm"
    )


class EmbedderOut(BaseModel):
    embedder: str
    count: int = Field(description="items with a vector of this embedder")
    dim: int
    updated_at: datetime | None


class VectorsIn(BaseModel):
    vectors: dict[int, list[float]] = Field(
        description="item id -> vector; every vector of an embedder has the same dimension",
        min_length=1,
        max_length=MAX_PUT,
    )


class VectorsStoredOut(BaseModel):
    embedder: str
    stored: int
    dim: int


class SimilarOut(BaseModel):
    item_id: int
    similarity: float = Field(description="cosine similarity, 1 for the same direction")
    preview: str
    status: str


class SimilarPageOut(BaseModel):
    item_id: int
    embedder: str | None = Field(description="None: the project has no vectors yet")
    similar: list[SimilarOut]


@router.post("/vectors/jobs", response_model=JobOut, status_code=202)
def start_embed_job(
    project_id: int,
    body: EmbedJobIn,
    db: DatabaseDep,
    session: ReadSessionDep,
    user: CurrentUser,
    runner: RunnerDep,
) -> JobOut:
    """Embed every item of the project in the background (replacing that embedder's vectors);
    follow it at /jobs/{id}."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    vectors.make_embedder(body.embedder)  # an unknown or unavailable embedder fails now
    params = {"embedder": body.embedder}
    job_id = enqueue(db, runner, "embed", params, project_id=project.id, user_id=user.id)
    with db.transaction(write=False) as read:
        return JobOut.model_validate(read.get(Job, job_id))


@router.get("/vectors", response_model=list[EmbedderOut])
def list_embedders(
    project_id: int, session: ReadSessionDep, user: CurrentUser
) -> list[EmbedderOut]:
    """The project's embedders, newest first."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.review(project))
    return [EmbedderOut(**vars(e)) for e in vectors.embedders(session, project)]


@router.put("/vectors/{embedder}", response_model=VectorsStoredOut)
def put_vectors(
    project_id: int, embedder: str, body: VectorsIn, session: SessionDep, user: CurrentUser
) -> VectorsStoredOut:
    """Store vectors computed outside Accord (image or audio embeddings, another model) under
    ``embedder``; all or nothing, a bad vector is a 422 naming the item and the rule."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.manage(project))
    stored = vectors.put_vectors(session, project, embedder, body.vectors, user.id)
    dim = len(next(iter(body.vectors.values())))
    return VectorsStoredOut(embedder=embedder, stored=stored, dim=dim)


@router.get("/items/{item_id}/similar", response_model=SimilarPageOut)
def similar_items(
    project_id: int,
    item_id: int,
    session: ReadSessionDep,
    user: CurrentUser,
    k: Annotated[int, Query(ge=1, le=200)] = 10,
    embedder: str | None = None,
) -> SimilarPageOut:
    """The items most like this one by cosine similarity of their vectors (the project's
    newest embedder unless one is named), best first."""
    project = projects.get_project(session, project_id)
    authorize(session, user, ProjectPolicy.view_all_annotations(project))
    name = embedder or vectors.newest_embedder(session, project)
    found = vectors.similar_with_previews(session, project, item_id, k, embedder=name)
    return SimilarPageOut(
        item_id=item_id, embedder=name, similar=[SimilarOut(**vars(s)) for s in found]
    )
