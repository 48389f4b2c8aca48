"""Media storage: the local folder and S3, the latter against a real S3-compatible server
process (moto's server mode) on loopback."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from accord.api.app import create_app
from accord.config import Settings
from accord.db.engine import Database
from accord.errors import InvalidInput, NotFound
from accord.io import LocalStorage, MediaStorage, S3Storage
from tests.conftest import DATASETS, Actor, Factory, free_port

IMAGE = DATASETS / "detection" / "bccd" / "BCCD" / "JPEGImages" / "BloodImage_00000.jpg"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    executable = Path(sys.executable).with_name("moto_server")
    if not executable.exists():
        pytest.skip("moto_server is not installed (the dev extra installs moto[server])")
    port = free_port()
    server = subprocess.Popen(
        [str(executable), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("moto_server did not start") from None
            time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture()
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    import boto3

    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    name = f"accord-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name


def exercise(storage: MediaStorage, tmp_path: Path) -> str:
    """The same sequence on any backend; returns the reference of the stored image."""
    ref = storage.put("imports/cells/a.jpg", IMAGE)
    assert storage.exists(ref)
    with storage.open(ref) as stream:
        assert stream.read() == IMAGE.read_bytes()
    other = tmp_path / "b.txt"
    other.write_bytes(b"second")
    with other.open("rb") as source:
        second = storage.put("imports/cells/b.txt", source)
    storage.delete(second)
    assert not storage.exists(second)
    with pytest.raises(NotFound):
        storage.open(second)
    return ref


def test_local_storage(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "media")
    ref = exercise(storage, tmp_path)
    assert ref == "local:imports/cells/a.jpg"
    assert storage.url(ref) is None  # served by the application itself
    with pytest.raises(InvalidInput):
        storage.put("../outside.txt", IMAGE)


def test_s3_storage_against_a_real_server(s3_endpoint: str, bucket: str, tmp_path: Path) -> None:
    storage = S3Storage(bucket, prefix="project-1", endpoint_url=s3_endpoint, region="us-east-1")
    ref = exercise(storage, tmp_path)
    assert ref == f"s3://{bucket}/project-1/imports/cells/a.jpg"
    url = storage.url(ref)
    assert url is not None
    assert httpx.get(url).content == IMAGE.read_bytes()  # a presigned URL anyone can fetch
    with pytest.raises(InvalidInput):
        storage.open("s3://another-bucket/x.jpg")


def test_folder_copied_to_s3_is_served_by_redirect(
    s3_endpoint: str,
    bucket: str,
    settings: Settings,
    db: Database,
    factory: Factory,
    admin: Actor,
    tmp_path: Path,
) -> None:
    s3 = settings.model_copy(
        update={
            "storage": "s3",
            "s3_bucket": bucket,
            "s3_endpoint_url": s3_endpoint,
            "s3_region": "us-east-1",
        }
    )
    folder = tmp_path / "cells"
    folder.mkdir()
    shutil.copy(IMAGE, folder / IMAGE.name)
    schema: dict[str, Any] = {
        "fields": [{"name": "image", "type": "image"}],
        "controls": [{"name": "cells", "type": "boxes", "field": "image", "labels": ["RBC"]}],
    }
    project = factory.project(admin, schema=schema)
    with TestClient(create_app(s3, db)) as client:
        response = client.post(
            f"/api/v1/projects/{project.id}/imports/folder",
            json={"path": str(folder), "copy_media": True},
            headers=admin.headers,
        )
        assert response.status_code == 201, response.text
        (item,) = client.get(f"/api/v1/projects/{project.id}/items", headers=admin.headers).json()[
            "items"
        ]
        assert item["media"] == f"s3://{bucket}/imports/cells/{IMAGE.name}"
        media = client.get(
            f"/api/v1/projects/{project.id}/items/{item['id']}/media",
            headers=admin.headers,
            follow_redirects=False,
        )
    assert media.status_code == 307
    assert httpx.get(media.headers["location"]).content == IMAGE.read_bytes()


def scenario(storage: MediaStorage, tmp_path: Path) -> dict[str, Any]:
    """Everything a caller can observe of one backend, with its reference scheme taken off."""
    head = "local:" if isinstance(storage, LocalStorage) else f"s3://{storage.bucket}/p/"

    def key(ref: str) -> str:
        assert ref.startswith(head), ref
        return ref[len(head) :]

    text = tmp_path / "notes.txt"
    text.write_text("plain text ✓", encoding="utf-8")
    refs = [
        storage.put("imports/cells/a.jpg", IMAGE),
        storage.put("imports/cells/sub/../b.txt", text),  # normalised like a path
        storage.put("imports/clips/c.bin", io.BytesIO(b"\x00\x01" * 70_000)),
        storage.put("other/d.txt", io.BytesIO(b"")),
    ]
    listed = {
        prefix: [key(r) for r in storage.list(prefix)]
        for prefix in ("", "imports/", "imports/cells/", "imp", "imports/cells/a", "none/")
    }
    with storage.open(refs[2]) as stream:
        binary = stream.read()
    storage.put("imports/cells/a.jpg", text)  # overwrite
    with storage.open(refs[0]) as stream:
        overwritten = stream.read()
    storage.delete(refs[1])
    storage.delete(refs[1])  # deleting twice is no error
    missing = head + "imports/never.txt"
    with pytest.raises(NotFound):
        storage.open(missing)
    refused = []
    for bad in ("../escape.txt", "/absolute.txt", "a/../../escape.txt", ""):
        with pytest.raises(InvalidInput):
            storage.put(bad, text)
        refused.append(bad)
    return {
        "refs": [key(r) for r in refs],
        "listed": listed,
        "binary": binary == b"\x00\x01" * 70_000,
        "overwritten": overwritten.decode(),
        "exists": [storage.exists(r) for r in refs] + [storage.exists(missing)],
        "after_delete": [key(r) for r in storage.list()],
        "refused": refused,
    }


EXPECTED: dict[str, Any] = {
    "refs": ["imports/cells/a.jpg", "imports/cells/b.txt", "imports/clips/c.bin", "other/d.txt"],
    "listed": {
        "": ["imports/cells/a.jpg", "imports/cells/b.txt", "imports/clips/c.bin", "other/d.txt"],
        "imports/": ["imports/cells/a.jpg", "imports/cells/b.txt", "imports/clips/c.bin"],
        "imports/cells/": ["imports/cells/a.jpg", "imports/cells/b.txt"],
        "imp": ["imports/cells/a.jpg", "imports/cells/b.txt", "imports/clips/c.bin"],
        "imports/cells/a": ["imports/cells/a.jpg"],
        "none/": [],
    },
    "binary": True,
    "overwritten": "plain text ✓",
    "exists": [True, False, True, True, False],
    "after_delete": ["imports/cells/a.jpg", "imports/clips/c.bin", "other/d.txt"],
    "refused": ["../escape.txt", "/absolute.txt", "a/../../escape.txt", ""],
}


def test_local_storage_behaves_as_documented(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "media")
    (tmp_path / "media").mkdir()
    assert scenario(storage, tmp_path) == EXPECTED
    assert storage.url("local:imports/cells/a.jpg") is None
    assert (
        storage.path_of("local:other/d.txt") == (tmp_path / "media" / "other" / "d.txt").resolve()
    )
    # a half-written upload (temporary file) is never listed
    (tmp_path / "media" / "other" / ".upload-x1y2").write_bytes(b"partial")
    assert storage.list("other/") == ["local:other/d.txt"]


def test_s3_storage_behaves_exactly_like_local_storage(
    s3_endpoint: str, bucket: str, tmp_path: Path
) -> None:
    storage = S3Storage(bucket, prefix="/p/", endpoint_url=s3_endpoint, region="us-east-1")
    assert scenario(storage, tmp_path) == EXPECTED


def test_s3_objects_carry_their_content_type_for_the_browser(s3_endpoint: str, bucket: str) -> None:
    import boto3

    storage = S3Storage(bucket, endpoint_url=s3_endpoint, region="us-east-1")
    refs = {
        name: storage.put(f"m/{name}", IMAGE)
        for name in ("a.jpg", "b.png", "c.wav", "d.mp4", "e.unknownext")
    }
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    types = {
        name: client.head_object(Bucket=bucket, Key=ref.split("/", 3)[3])["ContentType"]
        for name, ref in refs.items()
    }
    assert types == {
        "a.jpg": "image/jpeg",
        "b.png": "image/png",
        "c.wav": "audio/x-wav",
        "d.mp4": "video/mp4",
        "e.unknownext": "application/octet-stream",
    }
    response = httpx.get(storage.url(refs["a.jpg"], expires=60) or "")
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content == IMAGE.read_bytes()


def test_s3_list_pages_through_more_than_a_thousand_objects(s3_endpoint: str, bucket: str) -> None:
    storage = S3Storage(bucket, prefix="many", endpoint_url=s3_endpoint, region="us-east-1")
    for i in range(1_005):
        storage.client.put_object(Bucket=bucket, Key=f"many/k/{i:05d}", Body=b"x")
    refs = storage.list("k/")
    assert len(refs) == 1_005
    assert refs[0] == f"s3://{bucket}/many/k/00000" and refs[-1] == f"s3://{bucket}/many/k/01004"


def test_s3_exists_is_false_only_for_a_missing_object(s3_endpoint: str) -> None:
    from botocore.exceptions import ClientError
    from botocore.stub import Stubber

    # a missing bucket answers 404 to HEAD as well: nothing is there
    keys = {"access_key": "testing", "secret_key": "testing"}
    gone = S3Storage("no-such-bucket-here", endpoint_url=s3_endpoint, region="us-east-1", **keys)
    assert gone.exists("s3://no-such-bucket-here/x") is False
    # access denied is not "absent": it is raised for the caller to see
    storage = S3Storage("b", endpoint_url=s3_endpoint, region="us-east-1", **keys)
    with Stubber(storage.client) as stub:
        stub.add_client_error("head_object", service_error_code="403", http_status_code=403)
        with pytest.raises(ClientError) as caught:
            storage.exists("s3://b/x")
    assert caught.value.response["Error"]["Code"] == "403"
