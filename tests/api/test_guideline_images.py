"""Images in the guidelines: managers upload them (recognised by their bytes, stored once per
content in the media storage), every member of the project loads them and nobody else does, and
the rendered guidelines show them (labeling page, practice page, practice feedback)."""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from accord import Client
from accord.api.app import create_app
from accord.config import Settings
from accord.core import guideline_images
from accord.db.engine import Database
from accord.db.models import AuditEvent, Project
from accord.errors import NotFound
from accord.io import LocalStorage
from accord.sdk import AccordAPIError
from tests.api.helpers import add_items
from tests.conftest import DATASETS, Actor, Factory
from tests.io.test_storage import bucket, s3_endpoint  # noqa: F401  (fixtures)

BCCD = DATASETS / "detection" / "bccd" / "BCCD"
JPEG = BCCD / "JPEGImages" / "BloodImage_00000.jpg"
NOT_AN_IMAGE = BCCD / "Annotations" / "BloodImage_00000.xml"


def _path(project: Project, rest: str = "") -> str:
    return f"/api/v1/projects/{project.id}/guideline-images{rest}"


def _upload(
    client: TestClient, project: Project, actor: Actor, content: bytes, filename: str
) -> httpx.Response:
    return client.post(_path(project), files={"file": (filename, content)}, headers=actor.headers)


def _stored(settings: Settings, project: Project) -> list[str]:
    folder = settings.media_dir / "guidelines" / str(project.id)
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def _converted(fmt: str) -> bytes:
    """The BCCD image saved in another format."""
    out = io.BytesIO()
    with Image.open(JPEG) as image:
        image.convert("RGB").save(out, format=fmt)
    return out.getvalue()


def test_a_manager_uploads_an_image_and_every_member_loads_it(
    client: TestClient, settings: Settings, factory: Factory, admin: Actor, team: dict[str, Actor]
) -> None:
    project = factory.project(admin, members=team)
    content = JPEG.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    done = _upload(client, project, team["manager"], content, "Blood cells [RBC].jpg")
    assert done.status_code == 201, done.text
    url = f"/api/v1/projects/{project.id}/guideline-images/{digest}.jpg"
    assert done.json() == {
        "name": f"{digest}.jpg",
        "url": url,
        "markdown": f"![Blood cells RBC]({url})",
        "content_type": "image/jpeg",
        "size": len(content),
        "created": True,
    }
    # stored through the media storage, named by its content
    assert _stored(settings, project) == [f"{digest}.jpg"]
    for role in ("annotator", "reviewer", "manager"):
        served = client.get(url, headers=team[role].headers)
        assert served.status_code == 200, (role, served.text)
        assert served.content == content
        assert served.headers["content-type"] == "image/jpeg"
        assert "immutable" in served.headers["cache-control"]


def test_uploading_the_same_image_again_stores_nothing_new(
    client: TestClient, db: Database, settings: Settings, factory: Factory, admin: Actor
) -> None:
    project = factory.project(admin)
    content = JPEG.read_bytes()
    first = _upload(client, project, admin, content, "cells.jpg")
    again = _upload(client, project, admin, content, "another name.jpeg")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["created"] is False
    assert again.json()["url"] == first.json()["url"]
    assert again.json()["markdown"] == f"![another name]({first.json()['url']})"
    assert _stored(settings, project) == [first.json()["name"]]
    other = _upload(
        client, project, admin, (BCCD / "JPEGImages" / "BloodImage_00001.jpg").read_bytes(), "b.jpg"
    )
    assert other.status_code == 201 and other.json()["url"] != first.json()["url"]
    assert len(_stored(settings, project)) == 2
    with db.transaction(write=False) as session:
        uploads = session.scalars(
            select(AuditEvent)
            .where(
                AuditEvent.project_id == project.id, AuditEvent.action == "guidelines.image_upload"
            )
            .order_by(AuditEvent.id)
        ).all()
    assert [e.details["name"] for e in uploads] == [first.json()["name"], other.json()["name"]]
    assert uploads[0].details["filename"] == "cells.jpg" and uploads[0].actor_id == admin.user.id


def test_the_format_is_judged_by_the_bytes_not_the_file_name(
    client: TestClient, settings: Settings, factory: Factory, admin: Actor
) -> None:
    project = factory.project(admin)
    for fmt, ext, content_type in (
        ("PNG", "png", "image/png"),
        ("GIF", "gif", "image/gif"),
        ("WEBP", "webp", "image/webp"),
    ):
        content = _converted(fmt)
        done = _upload(client, project, admin, content, "misnamed.jpg")
        assert done.status_code == 201, done.text
        assert done.json()["content_type"] == content_type
        assert done.json()["name"] == f"{hashlib.sha256(content).hexdigest()}.{ext}"
        served = client.get(done.json()["url"], headers=admin.headers)
        assert served.headers["content-type"] == content_type and served.content == content
    # a JPEG without the extension is still a JPEG
    jpeg = _upload(client, project, admin, JPEG.read_bytes(), "no-extension")
    assert jpeg.json()["content_type"] == "image/jpeg"
    stored_before = _stored(settings, project)
    for content, name in (
        (NOT_AN_IMAGE.read_bytes(), "annotations.png"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "x.svg"),
        (b"", "empty.png"),
        (JPEG.read_bytes()[2:], "truncated.jpg"),
    ):
        refused = _upload(client, project, admin, content, name)
        assert refused.status_code == 422, name
        body = refused.json()
        assert body["type"] == "invalid_input"
        assert body["errors"][0]["field"] == "file" and body["errors"][0]["rule"] == "image_type"
        assert "PNG, JPEG, GIF or WebP" in body["detail"]
    assert _stored(settings, project) == stored_before


def test_an_image_over_the_size_limit_is_refused_with_413(
    client: TestClient, settings: Settings, factory: Factory, admin: Actor
) -> None:
    project = factory.project(admin)
    limit = settings.guideline_image_max_bytes
    assert limit == 5 * 1024 * 1024
    content = JPEG.read_bytes()
    at_limit = content + b"\0" * (limit - len(content))  # bytes after the JPEG's end are ignored
    accepted = _upload(client, project, admin, at_limit, "at-limit.jpg")
    assert accepted.status_code == 201 and accepted.json()["size"] == limit
    refused = _upload(client, project, admin, at_limit + b"\0", "over-limit.jpg")
    assert refused.status_code == 413
    body = refused.json()
    assert body["type"] == "too_large"
    assert body["errors"][0]["field"] == "file"
    assert body["errors"][0]["rule"] == "max_size"
    assert body["errors"][0]["max_bytes"] == limit
    assert "5,242,880 bytes" in body["detail"]
    assert _stored(settings, project) == [accepted.json()["name"]]


def test_only_managers_upload_and_only_members_load(
    client: TestClient, settings: Settings, factory: Factory, admin: Actor, team: dict[str, Actor]
) -> None:
    project = factory.project(admin, members=team)
    elsewhere = factory.project(admin, members={"manager": team["annotator"]})
    content = JPEG.read_bytes()
    for role in ("annotator", "reviewer"):
        refused = _upload(client, project, team[role], content, "a.jpg")
        assert refused.status_code == 403 and "manager" in refused.json()["detail"]
    stranger = factory.user()
    assert _upload(client, project, stranger, content, "a.jpg").status_code == 404
    assert _stored(settings, project) == []
    url = _upload(client, project, team["manager"], content, "a.jpg").json()["url"]
    missing = client.get(url, headers=stranger.headers)
    assert missing.status_code == 404 and missing.json()["type"] == "not_found"
    assert client.get(url).status_code == 401
    # the same name under a project the image was not uploaded to is not there
    name = url.rsplit("/", 1)[1]
    other = client.get(_path(elsewhere, f"/{name}"), headers=team["annotator"].headers)
    assert other.status_code == 404
    for bad in ("abc.png", name.replace(".jpg", ".svg"), "..%2F..%2Faccord.db", name.upper()):
        assert client.get(_path(project, f"/{bad}"), headers=admin.headers).status_code == 404


def _browser(app: Any, actor: Actor) -> TestClient:
    browser = TestClient(app)
    logged = browser.post(
        "/api/v1/auth/login", json={"username": actor.user.username, "password": "password123"}
    )
    assert logged.status_code == 200
    browser.headers["X-CSRF-Token"] = logged.json()["csrf_token"]
    return browser


def test_rendered_guidelines_show_the_uploaded_image(
    client: TestClient, app: Any, db: Database, factory: Factory, admin: Actor
) -> None:
    annotator = factory.user()
    project = factory.project(admin, members={"annotator": annotator}, practice_enabled=True)
    add_items(db, project, admin.user, ["gold one"])
    item_id = client.get(f"/api/v1/projects/{project.id}/items", headers=admin.headers).json()[
        "items"
    ][0]["id"]
    client.put(
        f"/api/v1/projects/{project.id}/items/{item_id}/gold",
        json={"result": {"sentiment": "negative"}},
        headers=admin.headers,
    ).raise_for_status()
    image = _upload(client, project, admin, JPEG.read_bytes(), "red cells.jpg").json()
    guidelines = f"# Negative\n\nComplaints look like this:\n\n{image['markdown']}\n"
    client.put(
        f"/api/v1/projects/{project.id}/schema",
        json={"guidelines": guidelines, "change_note": "an example picture"},
        headers=admin.headers,
    ).raise_for_status()
    tag = f'<img src="{image["url"]}" alt="red cells">'

    manager_browser = _browser(app, admin)
    preview = manager_browser.post(
        f"/projects/{project.id}/settings/guidelines-preview", data={"guidelines": guidelines}
    )
    assert tag in preview.text
    assert tag in manager_browser.get(f"/projects/{project.id}/settings").text

    browser = _browser(app, annotator)
    for page in ("label", "practice"):
        html = browser.get(f"/projects/{project.id}/{page}").text
        assert tag in html, page
    # the annotator's browser loads it with its session cookie
    assert browser.get(image["url"]).content == JPEG.read_bytes()

    served = browser.post(f"/api/v1/projects/{project.id}/practice/next").json()
    feedback = browser.post(
        f"/api/v1/projects/{project.id}/practice/items/{served['item']['id']}/answer",
        json={"result": {"sentiment": "positive"}},
    ).json()
    assert feedback["guideline"]["heading"] == "Negative"
    assert feedback["guideline"]["text"].endswith(image["markdown"])
    assert re.search(rf"<p>{re.escape(tag)}</p>", feedback["guideline"]["html"])


def test_images_in_s3_are_stored_once_and_served_by_redirect(
    s3_endpoint: str,  # noqa: F811
    bucket: str,  # noqa: F811
    settings: Settings,
    db: Database,
    factory: Factory,
    admin: Actor,
) -> None:
    s3 = settings.model_copy(
        update={
            "storage": "s3",
            "s3_bucket": bucket,
            "s3_prefix": "media",
            "s3_endpoint_url": s3_endpoint,
            "s3_region": "us-east-1",
        }
    )
    annotator = factory.user()
    project = factory.project(admin, members={"annotator": annotator})
    content = _converted("PNG")
    with TestClient(create_app(s3, db)) as client:
        first = _upload(client, project, admin, content, "cells.png")
        again = _upload(client, project, admin, content, "cells.png")
        served = client.get(first.json()["url"], headers=annotator.headers, follow_redirects=False)
        stranger = client.get(first.json()["url"], headers=factory.user().headers)
        never_uploaded = client.get(
            first.json()["url"].replace(first.json()["name"], "b" * 64 + ".png"),
            headers=annotator.headers,
            follow_redirects=False,
        )
        storage = client.app.state.storage  # type: ignore[attr-defined]
        listed = storage.list("guidelines/")
    assert (first.status_code, again.status_code) == (201, 200)
    name = first.json()["name"]
    assert listed == [f"s3://{bucket}/media/guidelines/{project.id}/{name}"]
    assert served.status_code == 307 and stranger.status_code == 404
    assert never_uploaded.status_code == 404  # not a redirect to a URL S3 would refuse
    fetched = httpx.get(served.headers["location"])
    assert fetched.content == content and fetched.headers["content-type"] == "image/png"


def test_names_that_are_not_an_image_of_the_project_are_not_found(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    image = guideline_images.store(storage, 7, io.BytesIO(JPEG.read_bytes()), max_bytes=10**6)
    stored = tmp_path / "guidelines" / "7" / image.name
    assert stored.read_bytes() == JPEG.read_bytes()
    assert guideline_images.source(storage, 7, image.name).path == stored.resolve()
    (tmp_path / "secret.png").write_bytes(_converted("PNG"))
    for project_id, name in (
        (8, image.name),  # another project's folder
        (7, "../../secret.png"),
        (7, f"../7/{image.name}"),
        (7, "a" * 64 + ".png"),  # a well-formed name that was never uploaded
        (7, image.name.replace(".jpg", ".png")),
    ):
        with pytest.raises(NotFound):
            guideline_images.source(storage, project_id, name)


def test_the_sdk_uploads_an_image_once(live_server: str, factory: Factory, admin: Actor) -> None:
    project = factory.project(admin)
    with Client(live_server, admin.token) as sdk:
        first = sdk.upload_guideline_image(project.id, JPEG)
        again = sdk.upload_guideline_image(project.id, str(JPEG))
        with pytest.raises(AccordAPIError) as refused:
            sdk.upload_guideline_image(project.id, NOT_AN_IMAGE)
    assert first["created"] is True and again["created"] is False
    assert again["markdown"] == first["markdown"] == f"![BloodImage_00000]({first['url']})"
    assert refused.value.status == 422
    served = httpx.get(f"{live_server}{first['url']}", headers=admin.headers)
    assert served.content == JPEG.read_bytes()
