"""Login and logout for the browser, and the current user."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from accord.api.deps import (
    SESSION_COOKIE,
    CurrentUser,
    SessionDep,
    SettingsDep,
    set_session_cookie,
)
from accord.api.payloads import LoginIn, LoginOut, UserOut
from accord.core import users

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=LoginOut)
def login(
    body: LoginIn, response: Response, session: SessionDep, settings: SettingsDep
) -> LoginOut:
    user = users.authenticate(session, body.username, body.password)
    secret, csrf = users.open_web_session(session, user, settings.session_hours)
    set_session_cookie(response, secret, settings)
    return LoginOut(user=UserOut.model_validate(user), csrf_token=csrf)


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, session: SessionDep, _user: CurrentUser) -> None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        users.close_web_session(session, cookie)
    response.delete_cookie(SESSION_COOKIE)


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return UserOut.model_validate(user)
