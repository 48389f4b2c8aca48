"""Media storage backends behind one small protocol, chosen by name.

References: ``local:<key>`` (a file under the data directory's media folder), ``s3://bucket/key``
(object storage), ``file:///abs/path`` (a file used in place: read, never deleted) and
``http(s)://`` URLs (passed through to the browser).
"""

from __future__ import annotations

import builtins
import mimetypes
import os
import posixpath
import shutil
import tempfile
from pathlib import Path
from typing import IO, Any, Protocol

from accord.errors import InvalidInput, NotFound


class MediaStorage(Protocol):
    def put(self, key: str, source: IO[bytes] | Path) -> str: ...

    def ref(self, key: str) -> str:
        """The reference ``put(key, ...)`` returns, without storing anything."""
        ...

    def open(self, ref: str) -> IO[bytes]: ...

    def exists(self, ref: str) -> bool: ...

    def delete(self, ref: str) -> None: ...

    def url(self, ref: str, expires: int = 3600) -> str | None: ...

    def list(self, prefix: str = "") -> builtins.list[str]: ...


def clean_key(key: str) -> str:
    """A storage key as a normalised relative path; refuses keys that climb out (``../x``)."""
    if not key or key.startswith("/") or "\x00" in key:
        raise InvalidInput(f"media key {key!r} must be a relative path")
    normal = posixpath.normpath(key)
    if normal in (".", "..") or normal.startswith("../"):
        raise InvalidInput(f"media key {key!r} leaves the storage folder")
    return normal


class LocalStorage:
    """Files under a root folder, written atomically (temporary file + rename)."""

    scheme = "local:"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, ref_or_key: str) -> Path:
        key = ref_or_key.removeprefix(self.scheme)
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise InvalidInput(f"media key {key!r} leaves the storage folder")
        return path

    def ref(self, key: str) -> str:
        return self.scheme + self._path(key).relative_to(self.root).as_posix()

    def put(self, key: str, source: IO[bytes] | Path) -> str:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(source, Path):
                    with source.open("rb") as src:
                        shutil.copyfileobj(src, out, 1024 * 1024)
                else:
                    shutil.copyfileobj(source, out, 1024 * 1024)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return self.scheme + target.relative_to(self.root).as_posix()

    def open(self, ref: str) -> IO[bytes]:
        path = self._path(ref)
        if not path.is_file():
            raise NotFound(f"media {ref} not found")
        return path.open("rb")

    def exists(self, ref: str) -> bool:
        return self._path(ref).is_file()

    def delete(self, ref: str) -> None:
        self._path(ref).unlink(missing_ok=True)

    def url(self, ref: str, expires: int = 3600) -> str | None:
        return None  # served by the application itself

    def list(self, prefix: str = "") -> builtins.list[str]:
        """References of every stored file whose key starts with ``prefix``, sorted."""
        folder = self.root / prefix.rpartition("/")[0]
        if not folder.resolve().is_relative_to(self.root) or not folder.is_dir():
            return []
        keys = (p.relative_to(self.root).as_posix() for p in folder.rglob("*") if p.is_file())
        return sorted(
            self.scheme + key
            for key in keys
            if key.startswith(prefix) and not Path(key).name.startswith(".upload-")
        )

    def path_of(self, ref: str) -> Path:
        """The file behind a reference, for serving it directly (it may not exist)."""
        return self._path(ref)


class S3Storage:
    """An S3-compatible bucket through boto3 (install the `s3` extra)."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
    ) -> None:
        import boto3

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
        )

    def _key(self, ref: str) -> str:
        head = f"s3://{self.bucket}/"
        if not ref.startswith(head):
            raise InvalidInput(f"{ref} is not in bucket {self.bucket}")
        return ref[len(head) :]

    def _full(self, key: str) -> str:
        key = clean_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def ref(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._full(key)}"

    def put(self, key: str, source: IO[bytes] | Path) -> str:
        """Stores the bytes under the prefix; the content type is guessed from the key, so that
        browsers following a presigned URL get e.g. image/jpeg rather than a download."""
        full = self._full(key)
        content_type = mimetypes.guess_type(full)[0] or "application/octet-stream"
        extra = {"ContentType": content_type}
        if isinstance(source, Path):
            self.client.upload_file(str(source), self.bucket, full, ExtraArgs=extra)
        else:
            self.client.upload_fileobj(source, self.bucket, full, ExtraArgs=extra)
        return self.ref(key)

    def open(self, ref: str) -> IO[bytes]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(ref))["Body"]
        except self.client.exceptions.NoSuchKey:
            raise NotFound(f"media {ref} not found") from None
        stream: IO[bytes] = body
        return stream

    def exists(self, ref: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(ref))
        except self.client.exceptions.ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise  # denied, no such bucket, ...: not an answer to "does it exist"
        return True

    def delete(self, ref: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(ref))

    def url(self, ref: str, expires: int = 3600) -> str | None:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._key(ref)}, ExpiresIn=expires
        )
        return url

    def list(self, prefix: str = "") -> builtins.list[str]:
        """References of every object whose key (below the storage prefix) starts with
        ``prefix``, sorted."""
        full = f"{self.prefix}/{prefix}" if self.prefix else prefix
        refs: builtins.list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=full
        ):
            refs.extend(f"s3://{self.bucket}/{o['Key']}" for o in page.get("Contents", []))
        return sorted(refs)


def get_storage(kind: str, **options: Any) -> MediaStorage:
    if kind == "local":
        return LocalStorage(Path(options["root"]))
    if kind == "s3":
        return S3Storage(**options)
    raise InvalidInput(f"unknown storage {kind!r}; use local or s3")
