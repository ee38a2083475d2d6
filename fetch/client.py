"""The HTTP client: timeouts, a bounded body, redirects and content-type checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx

from fetch.errors import (
    BodyTooLarge,
    ConnectFailed,
    FetchError,
    HttpStatusError,
    TimedOut,
    TooManyRedirects,
    TruncatedBody,
    WrongContentType,
)

FEED_TYPES = ("xml", "rss", "atom", "rdf", "text/plain", "text/html")
PAGE_TYPES = ("html", "xhtml", "text/plain")


class FetchSettingsLike(Protocol):
    user_agent: str
    connect_timeout: float
    read_timeout: float
    max_body_bytes: int
    max_redirects: int


@dataclass(frozen=True, slots=True)
class Response:
    url: str  # as requested
    final_url: str  # after redirects
    status: int
    body: bytes
    content_type: str
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class Fetcher:
    """A shared httpx client; use as a context manager."""

    def __init__(self, settings: FetchSettingsLike) -> None:
        self.settings = settings
        self._client = httpx.Client(
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            follow_redirects=True,
            max_redirects=settings.max_redirects,
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def get_feed(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Response:
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self._get(url, headers, FEED_TYPES)

    def get_page(self, url: str) -> Response:
        return self._get(url, {"Accept": "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"}, PAGE_TYPES)

    def _get(self, url: str, headers: dict[str, str], accepted_types: tuple[str, ...]) -> Response:
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code == 304:
                    return _response(url, response, b"")
                if response.status_code >= 400:
                    raise HttpStatusError(url, response.status_code, _retry_after(response))
                content_type = response.headers.get("content-type", "").lower()
                if content_type and not any(t in content_type for t in accepted_types):
                    raise WrongContentType(url, f"unexpected content type {content_type!r}")
                return _response(url, response, self._read_bounded(url, response))
        except FetchError:
            raise
        except httpx.TooManyRedirects:
            raise TooManyRedirects(url, f"more than {self.settings.max_redirects} redirects") from None
        except httpx.TimeoutException as exc:
            raise TimedOut(url, f"timed out ({type(exc).__name__})") from None
        except httpx.RemoteProtocolError as exc:
            raise TruncatedBody(url, f"connection broke off: {exc}") from None
        except (httpx.ConnectError, httpx.NetworkError) as exc:
            raise ConnectFailed(url, f"cannot connect: {exc}") from None
        except httpx.HTTPError as exc:
            raise FetchError(url, f"{type(exc).__name__}: {exc}") from None

    def _read_bounded(self, url: str, response: httpx.Response) -> bytes:
        limit = self.settings.max_body_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(url, f"body of {declared} bytes exceeds the {limit}-byte limit")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(url, f"body exceeds the {limit}-byte limit")
            chunks.append(chunk)
        return b"".join(chunks)


def _response(url: str, response: httpx.Response, body: bytes) -> Response:
    return Response(
        url=url,
        final_url=str(response.url),
        status=response.status_code,
        body=body,
        content_type=response.headers.get("content-type", ""),
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        return float(value)
    if value:
        from email.utils import parsedate_to_datetime

        try:
            from datetime import UTC, datetime

            return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
        except (TypeError, ValueError):
            return None
    return None
