"""Users (administrators manage them) and API tokens (everyone manages their own)."""

from __future__ import annotations

from fastapi import APIRouter

from accord.api.deps import CurrentUser, SessionDep
from accord.api.payloads import NewTokenOut, TokenIn, TokenOut, UserIn, UserOut
from accord.core import users
from accord.core.policies import require_admin

router = APIRouter(tags=["users"])


@router.get("/users", response_model=list[UserOut])
def list_users(session: SessionDep, user: CurrentUser) -> list[UserOut]:
    require_admin(user)
    return [UserOut.model_validate(u) for u in users.list_users(session)]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, session: SessionDep, user: CurrentUser) -> UserOut:
    require_admin(user)
    created = users.create_user(
        session,
        body.username,
        body.password,
        email=body.email,
        is_admin=body.is_admin,
        actor_id=user.id,
    )
    return UserOut.model_validate(created)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(session: SessionDep, user: CurrentUser) -> list[TokenOut]:
    return [TokenOut.model_validate(t) for t in users.list_tokens(session, user.id)]


@router.post("/tokens", response_model=NewTokenOut, status_code=201)
def create_token(body: TokenIn, session: SessionDep, user: CurrentUser) -> NewTokenOut:
    token, secret = users.create_token(session, user, body.name, actor_id=user.id)
    return NewTokenOut(**TokenOut.model_validate(token).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, session: SessionDep, user: CurrentUser) -> None:
    users.revoke_token(session, token_id, actor=user)
