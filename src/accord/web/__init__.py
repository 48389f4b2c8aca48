"""The browser UI: server-rendered pages (Jinja2 + htmx) and labeling widgets as ES modules."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    from accord.web.pages import adjudicate as adjudication_page
    from accord.web.pages import browse, data, home, label, login, quality, review, settings
    from accord.web.pages import training as training_page

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (login, home, label, browse, data, review, adjudication_page, quality, settings):
        app.include_router(module.router)
    from accord.web.pages import feedback

    app.include_router(feedback.router)
    app.include_router(training_page.router)
    from accord.web.pages import weak_supervision as weak_supervision_page

    app.include_router(weak_supervision_page.router)
    from accord.web.pages import models as models_page

    app.include_router(models_page.router)
    from accord.web.pages import duplicates as duplicates_page

    app.include_router(duplicates_page.router)
