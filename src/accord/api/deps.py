"""Request dependencies as Annotated aliases: the database session and the current user."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session

from accord.config import Settings
from accord.core import users
from accord.db.engine import Database
from accord.db.models import User
from accord.errors import Forbidden, Unauthorized
from accord.io import MediaStorage
from accord.jobs.runners import JobRunner

SESSION_COOKIE = "accord_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_storage_dep(request: Request) -> MediaStorage:
    storage: MediaStorage = request.app.state.storage
    return storage


def get_runner(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.runner
    return runner


StorageDep = Annotated[MediaStorage, Depends(get_storage_dep)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]
DatabaseDep = Annotated[Database, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def _session(request: Request, db: DatabaseDep) -> Iterator[Session]:
    # Committed before the response leaves (scope="function"): an acknowledged write is stored.
    with db.transaction(write=request.method not in SAFE_METHODS) as session:
        yield session


def _read_session(db: DatabaseDep) -> Iterator[Session]:
    with db.transaction(write=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(_read_session, scope="function")]


def current_user(request: Request, db: DatabaseDep) -> User:
    """Bearer token for programs; session cookie plus CSRF header for the browser.

    Authentication reads through its own short session so that a handler's write transaction
    (which on SQLite takes the write lock at BEGIN) is never opened before it is needed."""
    header = request.headers.get("authorization", "")
    with db.transaction(write=False) as session:
        if header.lower().startswith("bearer "):
            return users.user_for_token(session, header[7:].strip())
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            user, csrf = users.web_session_user(session, cookie)
            if request.method not in SAFE_METHODS:
                sent = request.headers.get(CSRF_HEADER, "")
                if not hmac.compare_digest(sent, csrf):
                    raise Forbidden("missing or wrong CSRF token")
            request.state.csrf_token = csrf
            return user
    raise Unauthorized("log in or send a bearer token")


CurrentUser = Annotated[User, Depends(current_user)]


def set_session_cookie(response: Response, secret: str, settings: Settings) -> None:
    """The browser session: http-only, same-site, secure when the site is served over TLS."""
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
    )
