"""The FastAPI application: the REST API under /api/v1 (OpenAPI at /docs)."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from accord import __version__
from accord.api import errors
from accord.api.routes import annotations as annotation_routes
from accord.api.routes import auth, data, items, projects, queue, users
from accord.config import Settings, get_settings
from accord.db.engine import Database, open_database

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Accord",
        version=__version__,
        description="Open-source data annotation platform.",
        docs_url="/docs",
        openapi_url=f"{API_PREFIX}/openapi.json",
    )
    app.state.settings = settings
    app.state.db = db or open_database(settings)
    errors.install(app)
    api = APIRouter(prefix=API_PREFIX)
    for module in (auth, users, projects, items, queue, annotation_routes, data):
        api.include_router(module.router)

    @api.get("/health", tags=["meta"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    app.include_router(api)
    return app
