"""An S3-compatible bucket (Amazon S3, MinIO, Ceph, ...) where a writer publishes generations for web nodes.

``s3://bucket/prefix`` names a place in a bucket. The connection is boto3's own configuration: credentials and
region from the usual ``AWS_*`` environment variables or files, and ``AWS_ENDPOINT_URL`` (or
``AWS_ENDPOINT_URL_S3``) for a store that is not Amazon's. Every failure (no such bucket, wrong credentials, an
unreachable endpoint) becomes a :class:`~dfl_graph.generations.StoreError` that says which URL and what went
wrong, never a traceback, and never the credentials.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from dfl_graph.generations import StoreError

SCHEME = "s3://"


def is_bucket_url(text: str) -> bool:
    return text.startswith(SCHEME)


@dataclass(frozen=True)
class Bucket:
    """One prefix of one bucket; keys given to its methods are relative to the prefix."""

    url: str

    def __post_init__(self) -> None:
        if not self.name:
            raise StoreError(f"{self.url!r} names no bucket: write s3://bucket/prefix")

    @property
    def name(self) -> str:
        return urlsplit(self.url).netloc

    @property
    def prefix(self) -> str:
        path = urlsplit(self.url).path.strip("/")
        return f"{path}/" if path else ""

    def _client(self):  # boto3 imported here: only nodes that use a bucket need it
        import boto3

        if not hasattr(self, "_cached_client"):
            object.__setattr__(self, "_cached_client", boto3.client("s3"))
        return self._cached_client  # type: ignore[attr-defined]

    @contextmanager
    def _errors(self, doing: str, key: str = "") -> Iterator[None]:
        from botocore.exceptions import BotoCoreError, ClientError

        where = f"{SCHEME}{self.name}/{self.prefix}{key}"
        try:
            yield
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "error")
            message = error.response.get("Error", {}).get("Message", "")
            raise StoreError(f"could not {doing} {where}: {code} {message}".rstrip()) from None
        except BotoCoreError as error:  # unreachable endpoint, no credentials, ...
            raise StoreError(f"could not {doing} {where}: {error}") from None

    def read_text(self, key: str) -> str | None:
        """The object's text, or None when there is no such object."""
        from botocore.exceptions import ClientError

        with self._errors("read", key):
            try:
                body = self._client().get_object(Bucket=self.name, Key=self.prefix + key)["Body"]
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return None
                raise
            return body.read().decode()

    def write_text(self, key: str, text: str) -> None:
        with self._errors("write", key):
            self._client().put_object(Bucket=self.name, Key=self.prefix + key, Body=text.encode())

    def upload(self, path: Path, key: str) -> None:
        with self._errors("upload to", key):
            self._client().upload_file(str(path), self.name, self.prefix + key)

    def download(self, key: str, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._errors("download", key):
            self._client().download_file(self.name, self.prefix + key, str(path))

    def keys(self, under: str = "") -> Iterator[str]:
        """Every key under ``under`` (relative to the prefix)."""
        with self._errors("list", under):
            pages = (
                self._client().get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=self.prefix + under)
            )
            for page in pages:
                for entry in page.get("Contents", ()):
                    yield entry["Key"][len(self.prefix) :]

    def delete(self, keys: list[str]) -> None:
        with self._errors("delete from", ""):
            for start in range(0, len(keys), 1000):  # the most one request may delete
                batch = [{"Key": self.prefix + k} for k in keys[start : start + 1000]]
                self._client().delete_objects(Bucket=self.name, Delete={"Objects": batch, "Quiet": True})


__all__ = ["SCHEME", "Bucket", "is_bucket_url"]
