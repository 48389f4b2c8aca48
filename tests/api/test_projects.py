from __future__ import annotations

from tests.conftest import TEXT_SCHEMA, Actor, Factory, unique


def _create(client, actor: Actor, **extra):
    body = {"name": unique("p"), "schema": TEXT_SCHEMA} | extra
    return client.post("/api/v1/projects", json=body, headers=actor.headers)


def test_create_project_with_schema_and_guidelines(client, admin: Actor) -> None:
    r = _create(client, admin, guidelines="# Rules", overlap=3)
    assert r.status_code == 201, r.text
    project = r.json()
    assert project["overlap"] == 3 and project["role"] == "manager"
    schema = client.get(f"/api/v1/projects/{project['id']}/schema", headers=admin.headers).json()
    assert schema["version"] == 1 and schema["guidelines"] == "# Rules"
    assert [c["name"] for c in schema["schema"]["controls"]] == ["sentiment", "entities"]


def test_schema_given_as_yaml_text(client, admin: Actor) -> None:
    yaml_text = (
        "fields:\n  - {name: text, type: text}\ncontrols:\n"
        "  - {name: topic, type: choices, field: text, labels: [a, b]}\n"
    )
    r = _create(client, admin, schema=yaml_text)
    assert r.status_code == 201, r.text


def test_invalid_schema_is_a_422_naming_the_place(client, admin: Actor) -> None:
    bad = {
        "fields": [{"name": "text", "type": "text"}],
        "controls": [{"name": "c", "type": "choices", "field": "nope", "labels": ["a"]}],
    }
    r = _create(client, admin, schema=bad)
    assert r.status_code == 422
    body = r.json()
    assert body["type"] == "invalid_schema"
    assert "nope" in body["detail"]
    assert any("controls" in e["loc"] for e in body["errors"])


def test_invalid_settings_name_the_field(client, admin: Actor) -> None:
    r = _create(client, admin, overlap=0)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "overlap"
    r = _create(client, admin, strategy="psychic")
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "strategy"


def test_duplicate_name_conflicts(client, admin: Actor) -> None:
    name = unique("dup")
    assert _create(client, admin, name=name).status_code == 201
    r = _create(client, admin, name=name)
    assert r.status_code == 409 and name in r.json()["detail"]


def test_schema_versions_keep_history(client, admin: Actor) -> None:
    pid = _create(client, admin).json()["id"]
    new_schema = dict(TEXT_SCHEMA, controls=TEXT_SCHEMA["controls"][:1])
    r = client.put(
        f"/api/v1/projects/{pid}/schema",
        json={"schema": new_schema, "guidelines": "v2 rules", "change_note": "drop entities"},
        headers=admin.headers,
    )
    assert r.status_code == 201 and r.json()["version"] == 2
    same = client.put(
        f"/api/v1/projects/{pid}/schema", json={"guidelines": "v2 rules"}, headers=admin.headers
    )
    assert same.status_code == 409
    versions = client.get(f"/api/v1/projects/{pid}/schema/versions", headers=admin.headers).json()
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["change_note"] == "drop entities"
    v1 = client.get(f"/api/v1/projects/{pid}/schema/versions/1", headers=admin.headers).json()
    assert len(v1["schema"]["controls"]) == 2


def test_members_and_roles(client, admin: Actor, factory: Factory) -> None:
    annotator, outsider = factory.user(), factory.user()
    pid = _create(client, admin).json()["id"]
    r = client.put(
        f"/api/v1/projects/{pid}/members/{annotator.user.username}",
        json={"role": "annotator"},
        headers=admin.headers,
    )
    assert r.status_code == 200
    bad = client.put(
        f"/api/v1/projects/{pid}/members/{annotator.user.username}",
        json={"role": "boss"},
        headers=admin.headers,
    )
    assert bad.status_code == 422
    # a member sees the project; an outsider does not learn it exists
    assert (
        client.get(f"/api/v1/projects/{pid}", headers=annotator.headers).json()["role"]
        == "annotator"
    )
    assert client.get(f"/api/v1/projects/{pid}", headers=outsider.headers).status_code == 404
    assert pid in [
        p["id"] for p in client.get("/api/v1/projects", headers=annotator.headers).json()
    ]
    assert pid not in [
        p["id"] for p in client.get("/api/v1/projects", headers=outsider.headers).json()
    ]
    # an annotator may not manage
    r = client.patch(f"/api/v1/projects/{pid}", json={"overlap": 2}, headers=annotator.headers)
    assert r.status_code == 403 and "manager" in r.json()["detail"]
    members = client.get(f"/api/v1/projects/{pid}/members", headers=admin.headers).json()
    assert {m["user"]["username"]: m["role"] for m in members}[
        annotator.user.username
    ] == "annotator"
    assert (
        client.delete(
            f"/api/v1/projects/{pid}/members/{annotator.user.username}", headers=admin.headers
        ).status_code
        == 204
    )
    assert client.get(f"/api/v1/projects/{pid}", headers=annotator.headers).status_code == 404


def test_audit_log_records_changes(client, admin: Actor) -> None:
    pid = _create(client, admin).json()["id"]
    client.patch(
        f"/api/v1/projects/{pid}", json={"overlap": 2, "lease_seconds": 60}, headers=admin.headers
    )
    events = client.get(f"/api/v1/projects/{pid}/audit", headers=admin.headers).json()
    actions = [e["action"] for e in events]
    assert actions[0] == "project.update"
    assert {"project.create", "schema.publish"} <= set(actions)
    update = next(e for e in events if e["action"] == "project.update")
    assert update["actor_id"] == admin.user.id
    assert update["details"]["before"] == {"overlap": 1, "lease_seconds": 1800}
    assert update["details"]["after"] == {"overlap": 2, "lease_seconds": 60}
