from __future__ import annotations

from sqlalchemy import select

from accord.db.models import ApiToken, User
from tests.conftest import Actor, Factory


def test_bearer_token_identifies_the_user(client, factory: Factory) -> None:
    actor = factory.user()
    r = client.get("/api/v1/auth/me", headers=actor.headers)
    assert r.status_code == 200
    assert r.json()["username"] == actor.user.username


def test_missing_and_wrong_tokens_get_401(client) -> None:
    r = client.get("/api/v1/auth/me")
    assert r.status_code == 401
    assert r.json()["type"] == "unauthorized"
    r = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer acc_nope"})
    assert r.status_code == 401


def test_tokens_are_stored_hashed_and_revocable(client, db, factory: Factory) -> None:
    actor = factory.user()
    r = client.post("/api/v1/tokens", json={"name": "ci"}, headers=actor.headers)
    assert r.status_code == 201
    secret = r.json()["token"]
    with db.transaction(write=False) as s:
        stored = s.scalar(select(ApiToken).where(ApiToken.id == r.json()["id"]))
        assert (
            stored is not None and secret not in stored.token_hash and len(stored.token_hash) == 64
        )
        pw = s.scalar(select(User.password_hash).where(User.id == actor.user.id))
        assert pw is not None and pw.startswith("$argon2")
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert (
        client.delete(f"/api/v1/tokens/{r.json()['id']}", headers=actor.headers).status_code == 204
    )
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401


def test_someone_elses_token_cannot_be_revoked(client, factory: Factory) -> None:
    owner, other = factory.user(), factory.user()
    token_id = client.post("/api/v1/tokens", json={}, headers=owner.headers).json()["id"]
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=other.headers).status_code == 404


def test_cookie_login_requires_csrf_header_for_writes(client, factory: Factory) -> None:
    actor = factory.user(password="correct horse")
    bad = client.post(
        "/api/v1/auth/login", json={"username": actor.user.username, "password": "wrong pass"}
    )
    assert bad.status_code == 401
    r = client.post(
        "/api/v1/auth/login", json={"username": actor.user.username, "password": "correct horse"}
    )
    assert r.status_code == 200
    csrf = r.json()["csrf_token"]
    assert "accord_session" in r.cookies
    assert client.get("/api/v1/auth/me").json()["username"] == actor.user.username
    no_csrf = client.post("/api/v1/tokens", json={"name": "x"})
    assert no_csrf.status_code == 403
    assert "CSRF" in no_csrf.json()["detail"]
    ok = client.post("/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    client.cookies.clear()
    assert client.get("/api/v1/auth/me").status_code == 401


def test_only_admins_create_users(client, admin: Actor, factory: Factory) -> None:
    plain = factory.user()
    body = {"username": "newcomer-" + plain.user.username[-6:], "password": "longenough"}
    assert client.post("/api/v1/users", json=body, headers=plain.headers).status_code == 403
    r = client.post("/api/v1/users", json=body, headers=admin.headers)
    assert r.status_code == 201 and r.json()["is_admin"] is False
    again = client.post("/api/v1/users", json=body, headers=admin.headers)
    assert again.status_code == 409
    short = client.post(
        "/api/v1/users", json={"username": "abc-x", "password": "short"}, headers=admin.headers
    )
    assert short.status_code == 422
    assert short.json()["errors"][0]["field"] == "password"
