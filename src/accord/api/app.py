"""The FastAPI application: the REST API under /api/v1 (OpenAPI at /docs)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from accord import __version__, web
from accord.api import errors
from accord.api.routes import adjudication as adjudication_routes
from accord.api.routes import annotations as annotation_routes
from accord.api.routes import (
    auth,
    data,
    gold,
    items,
    jobs,
    projects,
    quality,
    queue,
    reviews,
    training,
    users,
)
from accord.config import Settings, get_settings
from accord.core.media import storage_for
from accord.db.engine import Database, open_database
from accord.jobs.runners import make_runner
from accord.jobs.schedule import QualitySchedule

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = db or open_database(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Jobs run while the server runs: the runner starts and stops with it.
        runner = app.state.runner = make_runner(settings, database)
        schedule = QualitySchedule(database, runner, settings.quality_check_seconds)
        if settings.quality_check_seconds > 0:
            schedule.start()
        yield
        schedule.stop()
        runner.shutdown()

    app = FastAPI(
        lifespan=lifespan,
        title="Accord",
        version=__version__,
        description="Open-source data annotation platform.",
        docs_url="/docs",
        openapi_url=f"{API_PREFIX}/openapi.json",
    )
    app.state.settings = settings
    app.state.db = database
    app.state.storage = storage_for(settings)
    errors.install(app)
    api = APIRouter(prefix=API_PREFIX)
    for module in (
        auth,
        users,
        projects,
        items,
        queue,
        annotation_routes,
        reviews,
        adjudication_routes,
        quality,
        gold,
        data,
        jobs,
    ):
        api.include_router(module.router)
    api.include_router(projects.schema_router)
    from accord.api.routes import guideline_examples, guideline_images, performance, threads

    for feedback in (threads, guideline_examples, guideline_images, performance):
        api.include_router(feedback.router)
    api.include_router(training.router)
    from accord.api.routes import duplicates as duplicate_routes
    from accord.api.routes import personal_data as personal_data_routes

    api.include_router(duplicate_routes.router)
    api.include_router(personal_data_routes.router)
    from accord.api.routes import models as model_routes

    api.include_router(model_routes.router)
    from accord.api.routes import labeling_functions, vectors

    api.include_router(vectors.router)
    api.include_router(labeling_functions.router)

    @api.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    app.include_router(api)
    web.install(app)
    return app
