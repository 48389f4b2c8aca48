"""Users, API tokens and browser sessions."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accord.core import audit
from accord.core.security import hash_password, hash_token, new_token, verify_password
from accord.db.models import ApiToken, User, WebSession, utcnow
from accord.errors import Conflict, InvalidInput, NotFound, Unauthorized

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,150}$")
MIN_PASSWORD = 8


def create_user(
    session: Session,
    username: str,
    password: str | None,
    *,
    email: str | None = None,
    is_admin: bool = False,
    actor_id: int | None = None,
) -> User:
    if not USERNAME.match(username):
        raise InvalidInput(
            "username must be 2-150 characters of letters, digits and _ . @ -",
            [{"field": "username", "rule": "pattern"}],
        )
    if password is not None and len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"password must have at least {MIN_PASSWORD} characters",
            [{"field": "password", "rule": "min_length"}],
        )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    user = User(
        username=username,
        email=email,
        is_admin=is_admin,
        password_hash=hash_password(password) if password else None,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"user {username!r} already exists") from exc
    audit.record(session, actor_id=actor_id, action="user.create", entity="user", entity_id=user.id)
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def get_user_by_name(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user {username!r} not found")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def set_password(session: Session, user: User, password: str, *, actor_id: int | None) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD} characters")
    user.password_hash = hash_password(password)
    audit.record(
        session, actor_id=actor_id, action="user.password", entity="user", entity_id=user.id
    )


def authenticate(session: Session, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        raise Unauthorized("wrong username or password")
    return user


def create_token(
    session: Session, user: User, name: str, *, actor_id: int | None
) -> tuple[ApiToken, str]:
    """Return the stored token row and the secret, which is shown once and never stored."""
    secret = new_token()
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(secret), prefix=secret[:10])
    session.add(token)
    session.flush()
    audit.record(
        session, actor_id=actor_id, action="token.create", entity="api_token", entity_id=token.id
    )
    return token, secret


def list_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
    )


def revoke_token(session: Session, token_id: int, *, actor: User) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.id and not actor.is_admin):
        raise NotFound(f"token {token_id} not found")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(
            session,
            actor_id=actor.id,
            action="token.revoke",
            entity="api_token",
            entity_id=token.id,
        )


def user_for_token(session: Session, secret: str) -> User:
    row = session.execute(
        select(User, ApiToken.id)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(secret), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None or not row[0].is_active:
        raise Unauthorized("invalid or revoked token")
    return row[0]


def open_web_session(session: Session, user: User, hours: float) -> tuple[str, str]:
    """Start a browser session; returns (cookie secret, CSRF token)."""
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    session.add(
        WebSession(
            user_id=user.id,
            token_hash=hash_token(secret),
            csrf_token=csrf,
            expires_at=utcnow() + timedelta(hours=hours),
        )
    )
    audit.record(session, actor_id=user.id, action="user.login", entity="user", entity_id=user.id)
    return secret, csrf


def web_session_user(session: Session, secret: str) -> tuple[User, str]:
    """The user and CSRF token of a live browser session."""
    row = session.execute(
        select(User, WebSession.csrf_token)
        .join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.token_hash == hash_token(secret), WebSession.expires_at > utcnow())
    ).first()
    if row is None or not row[0].is_active:
        raise Unauthorized("session expired; log in again")
    return row[0], row[1]


def close_web_session(session: Session, secret: str) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.token_hash == hash_token(secret))
        .values(expires_at=utcnow())
    )
