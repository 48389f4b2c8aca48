"""Who is looking at a page: the browser session cookie, or a redirect to the login page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request

from accord.api.deps import SESSION_COOKIE, DatabaseDep
from accord.core import users
from accord.db.models import User
from accord.errors import AccordError, Unauthorized


class LoginRequired(Unauthorized):
    """Raised by pages: answered with a redirect to /login that comes back afterwards."""

    def __init__(self, next_url: str) -> None:
        super().__init__("log in to see this page")
        self.next_url = next_url


def page_user(request: Request, db: DatabaseDep) -> User:
    cookie = request.cookies.get(SESSION_COOKIE)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not cookie:
        raise LoginRequired(target)
    with db.transaction(write=False) as session:
        try:
            user, csrf = users.web_session_user(session, cookie)
        except AccordError:
            raise LoginRequired(target) from None
    request.state.user = user
    request.state.csrf_token = csrf
    return user


def login_url(next_url: str) -> str:
    return f"/login?next={quote(next_url, safe='')}"


PageUser = Annotated[User, Depends(page_user)]
