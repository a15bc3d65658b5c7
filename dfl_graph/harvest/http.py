"""Fetching from portals on the real web: bounded in time, size and redirects, retried when it is worth it.

Everything a harvest downloads goes through :class:`HttpClient`, which

* sets a connect and a read timeout on every request, and an overall deadline per response (a server
  that trickles one byte every few seconds never trips a read timeout);
* retries connection errors, timeouts, 429 and 5xx answers with exponential backoff (honouring a short
  ``Retry-After``), and never retries other 4xx answers: they will not get better;
* follows at most ``max_redirects`` redirects;
* streams the body to a temporary file, counting the *decoded* bytes (gzip and deflate are decoded by
  urllib3 as they arrive), and aborts as soon as the count passes ``max_bytes``, so neither a huge
  body nor a gzip bomb is ever held in memory; a ``Content-Length`` above the cap aborts before reading;
* notices truncated bodies (fewer bytes than ``Content-Length``, or a chunked body cut short), and HTML
  pages served where JSON or RDF was expected (a login page, a portal's "not found" page).

Errors are :class:`FetchError`, which names the URL and says what went wrong in words an operator can act on.
"""

from __future__ import annotations

import contextlib
import random
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests
from urllib3.exceptions import DecodeError, ProtocolError, ReadTimeoutError

from dfl_graph import __version__

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
CHUNK = 64 * 1024
HTML_MARKERS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<!--")


class FetchError(Exception):
    """A URL could not be fetched, or what came back cannot be what was asked for."""

    def __init__(self, url: str, message: str, status: int | None = None) -> None:
        self.url = url
        self.status = status
        super().__init__(f"{url}: {message}")


@dataclass(frozen=True)
class HttpPolicy:
    """Limits of one harvest's HTTP requests (``[http]`` in harvest.toml, per source under ``options``)."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    total_timeout: float = 900.0  # one response, start to last byte
    retries: int = 3
    backoff: float = 1.0  # seconds before the first retry, doubled each time
    max_backoff: float = 30.0
    max_bytes: int = 1024 * 1024 * 1024  # 1 GiB of decoded body
    max_redirects: int = 5
    user_agent: str = f"DataForLondon-harvester/{__version__} (+https://data.london.gov.uk)"

    @classmethod
    def from_options(cls, options: dict, base: HttpPolicy | None = None) -> HttpPolicy:
        """A policy from harvest.toml keys (unknown keys are an error: a typo must not silently do nothing)."""
        base = base or cls()
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"unknown HTTP option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        values = {**base.__dict__, **options}
        for name, value in values.items():
            if name == "user_agent":
                if not isinstance(value, str) or not value.strip():
                    raise ValueError("user_agent must be a non-empty string")
            elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        return cls(**values)


@dataclass
class Body:
    """A downloaded response body, on disk."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int
    content_type: str  # media type only, lower-case ("" if none)
    path: Path
    size: int
    headers: dict[str, str] = field(default_factory=dict)

    def read(self) -> bytes:
        return self.path.read_bytes()

    def head(self, n: int = 512) -> bytes:
        with self.path.open("rb") as handle:
            return handle.read(n)


def looks_like_html(content_type: str, head: bytes) -> bool:
    """True for an HTML page: by its media type, or by its first bytes whatever the server claims."""
    if content_type in ("text/html", "application/xhtml+xml"):
        return True
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith(HTML_MARKERS) and b"<rdf:rdf" not in start


class HttpClient:
    """One harvest's HTTP client: a requests session with the policy's limits (see the module docstring)."""

    def __init__(self, policy: HttpPolicy | None = None, workdir: Path | None = None) -> None:
        self.policy = policy or HttpPolicy()
        self.session = requests.Session()
        self.session.max_redirects = self.policy.max_redirects
        self.session.headers["User-Agent"] = self.policy.user_agent
        self.session.headers["Accept-Encoding"] = "gzip, deflate"
        self._tmp = tempfile.TemporaryDirectory(prefix="dfl-harvest-", dir=workdir)
        self.workdir = Path(self._tmp.name)
        self.requests = 0
        self.retried = 0
        self.bytes = 0
        self._files = 0

    def close(self) -> None:
        self.session.close()
        self._tmp.cleanup()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, url: str, params: dict | None = None, accept: str = "*/*", expect: str | None = None) -> Body:
        """GET a URL into a temporary file, retrying transient failures; FetchError otherwise.

        ``expect`` ("json" or "rdf") refuses HTML answers with a message saying so.
        """
        policy = self.policy
        attempt = 0
        while True:
            attempt += 1
            try:
                body = self._get_once(url, params, accept)
            except _Retryable as error:
                if attempt > policy.retries:
                    raise FetchError(url, f"{error.message} (gave up after {attempt} attempts)", error.status) from None
                self.retried += 1
                time.sleep(self._delay(attempt, error.retry_after))
                continue
            if expect and looks_like_html(body.content_type, body.head()):
                raise FetchError(
                    url,
                    f"expected {expect.upper()} but the server sent an HTML page ({body.content_type or 'no type'},"
                    f" {body.size} bytes): is the URL right, or is the portal showing an error or login page?",
                    body.status,
                )
            return body

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        policy = self.policy
        delay = min(policy.max_backoff, policy.backoff * 2 ** (attempt - 1))
        if retry_after is not None:
            delay = min(policy.max_backoff, max(delay, retry_after))
        return delay * (1 + random.random() * 0.1) if delay else 0.0

    def _get_once(self, url: str, params: dict | None, accept: str) -> Body:
        policy = self.policy
        self.requests += 1
        try:
            response = self.session.get(
                url,
                params=params,
                headers={"Accept": accept},
                stream=True,
                timeout=(policy.connect_timeout, policy.read_timeout),
            )
        except requests.TooManyRedirects:
            raise FetchError(url, f"more than {policy.max_redirects} redirects") from None
        except (requests.ConnectTimeout, requests.ReadTimeout) as error:
            raise _Retryable(f"timed out ({_reason(error)})") from None
        except requests.ConnectionError as error:
            raise _Retryable(f"could not connect ({_reason(error)})") from None
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema):
            raise FetchError(url, "not a valid http(s) URL") from None
        with contextlib.closing(response):
            final = response.url
            if response.status_code in RETRY_STATUSES:
                raise _Retryable(
                    f"HTTP {response.status_code} {response.reason or ''}".strip(),
                    response.status_code,
                    _retry_after(response.headers.get("Retry-After")),
                )
            if response.status_code >= 400:
                status = f"HTTP {response.status_code} {response.reason or ''}".strip()
                raise FetchError(url, status + _error_detail(response), response.status_code)
            declared = response.headers.get("Content-Length")
            plain = response.headers.get("Content-Encoding") in (None, "identity")
            if plain and declared and declared.isdigit() and int(declared) > policy.max_bytes:
                raise FetchError(
                    url, f"the body is {int(declared):,} bytes, more than the {policy.max_bytes:,}-byte cap"
                )
            self._files += 1
            path = self.workdir / f"body-{self._files:05d}"
            size = self._stream(url, response, path)
            content_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
            headers = {k.lower(): v for k, v in response.headers.items()}
            return Body(url, final, response.status_code, content_type, path, size, headers)

    def _stream(self, url: str, response: requests.Response, path: Path) -> int:
        policy = self.policy
        deadline = time.monotonic() + policy.total_timeout
        size = 0
        raw = response.raw
        raw.enforce_content_length = True
        try:
            with path.open("wb") as out:
                for chunk in _chunks(raw):
                    size += len(chunk)
                    if size > policy.max_bytes:
                        raise FetchError(url, f"the body is more than the {policy.max_bytes:,}-byte cap: aborted")
                    if time.monotonic() > deadline:
                        raise _Retryable(f"the response took more than {policy.total_timeout:g} s")
                    out.write(chunk)
        except (ReadTimeoutError, requests.ReadTimeout) as error:
            path.unlink(missing_ok=True)
            raise _Retryable(f"timed out while reading the body ({_reason(error)})") from None
        except DecodeError as error:
            path.unlink(missing_ok=True)
            raise FetchError(url, f"the body cannot be decoded ({_reason(error)})") from None
        except (ProtocolError, requests.exceptions.ChunkedEncodingError, OSError) as error:
            path.unlink(missing_ok=True)
            raise _Retryable(f"the body was cut short after {size:,} bytes ({_reason(error)})") from None
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        self.bytes += size
        return size


class _Retryable(Exception):
    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


def _chunks(raw) -> Iterator[bytes]:
    """The decoded body in chunks (urllib3 decodes gzip/deflate as it reads)."""
    yield from raw.stream(CHUNK, decode_content=True)


def _error_detail(response: requests.Response) -> str:
    """A short excerpt of an error body (a CKAN error message, a JSON API's reason), if it has one."""
    try:
        head = next(response.raw.stream(2048, decode_content=True), b"")
    except Exception:  # the body of an error is a courtesy: never let it hide the status
        return ""
    text = " ".join(head.decode("utf-8", "replace").split())
    if not text or looks_like_html(response.headers.get("Content-Type", "").split(";")[0].strip(), head):
        return ""
    return f": {text[:300]}"


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


def _reason(error: BaseException) -> str:
    text = str(error.args[0] if error.args else error)
    return text.split(": ", 1)[-1][:200] if len(text) > 200 else text


__all__ = ["Body", "FetchError", "HttpClient", "HttpPolicy", "looks_like_html"]
