"""Logging in and out in the browser."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from accord.api.deps import SESSION_COOKIE, SessionDep, SettingsDep, set_session_cookie
from accord.core import users
from accord.errors import Unauthorized
from accord.web.render import page

router = APIRouter(include_in_schema=False)


def _local(next_url: str | None) -> str:
    """Only paths on this site: an open redirect after login would help phishing."""
    if next_url and next_url.startswith("/") and not next_url.startswith("//"):
        return next_url
    return "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return page(request, "login.html", next=_local(next), username="", error=None)


@router.post("/login", response_model=None)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        user = users.authenticate(session, username, password)
    except Unauthorized as exc:
        return page(
            request,
            "login.html",
            status_code=401,
            next=_local(next),
            username=username,
            error=exc.message,
        )
    secret, _csrf = users.open_web_session(session, user, settings.session_hours)
    response = RedirectResponse(_local(next), status_code=303)
    set_session_cookie(response, secret, settings)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> RedirectResponse:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        users.close_web_session(session, cookie)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
