"""The HTTP client: timeouts, a bounded body, redirects, content types, retries and politeness.

One ``Fetcher`` is shared by the threads of a run. Every request, and every
redirect hop, waits for a slot of its host (``HostGate``); pages are checked
against the robots.txt of each host they lead to (``RobotsCache``); transient
failures are tried again (``RetryPolicy``). Anything else becomes a precise
``FetchError``.
"""

from __future__ import annotations

import codecs
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpx
from saidwhat.fetch import retry as retry_module
from saidwhat.fetch.errors import (
    BadUrl,
    BodyTooLarge,
    ConnectFailed,
    FetchError,
    HttpStatusError,
    RobotsDisallowed,
    TimedOut,
    TooManyRedirects,
    TruncatedBody,
    WrongContentType,
)
from saidwhat.fetch.politeness import HostGate
from saidwhat.fetch.retry import RetryPolicy, with_retries
from saidwhat.fetch.robots import MAX_ROBOTS_BYTES, RobotsCache

FEED_TYPES = ("xml", "rss", "atom", "rdf", "text/plain", "text/html")
PAGE_TYPES = ("html", "xhtml", "text/plain")

log = logging.getLogger(__name__)


class FetchSettingsLike(Protocol):
    user_agent: str
    connect_timeout: float
    read_timeout: float
    max_body_bytes: int
    max_redirects: int
    per_host_concurrency: int
    per_host_delay_seconds: float
    respect_robots: bool


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

    @property
    def charset(self) -> str | None:
        """The charset named by the Content-Type header, if Python knows it."""
        if not self.content_type:
            return None
        message = Message()
        message["content-type"] = self.content_type
        name = message.get_param("charset")
        if not isinstance(name, str):
            return None
        try:
            return codecs.lookup(name.strip()).name
        except LookupError:
            return None

    def text_or_bytes(self) -> str | bytes:
        """The body as text when the declared charset decodes it cleanly, else the bytes.

        The HTTP header outranks a page's own <meta charset> (HTML standard); a
        wrong or missing declaration leaves the bytes for the extractor's sniffing.
        """
        charset = self.charset
        if charset is None or b"\x00" in self.body[:2048]:
            return self.body
        try:
            return self.body.decode(charset)
        except UnicodeDecodeError:
            return self.body


class Fetcher:
    """A shared httpx client; use as a context manager."""

    def __init__(
        self,
        settings: FetchSettingsLike,
        retry: RetryPolicy | None = None,
        gate: HostGate | None = None,
    ) -> None:
        self.settings = settings
        self.retry = retry or retry_module.DEFAULT_POLICY
        self.gate = gate or HostGate(
            getattr(settings, "per_host_concurrency", 2), getattr(settings, "per_host_delay_seconds", 1.0)
        )
        self.respect_robots = getattr(settings, "respect_robots", True)
        self.robots = RobotsCache(self._get_robots)
        self._client = httpx.Client(
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            follow_redirects=False,  # followed by _get, hop by hop, politely
            # An HTTP proxy for every request; `saidwhat demo` uses its local server as one.
            proxy=getattr(settings, "proxy", "") or None,
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ public
    def get_feed(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Response:
        """A feed, conditionally: a 304 answer has ``not_modified`` and an empty body."""
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self._get_with_retries(url, headers, FEED_TYPES)

    def get_page(self, url: str) -> Response:
        """An article page, if robots.txt allows it (and every page it redirects to)."""
        accept = {"Accept": "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"}
        return self._get_with_retries(url, accept, PAGE_TYPES, check_robots=self.respect_robots)

    def _check_robots(self, url: str) -> None:
        rules = self.robots.rules_for(url)
        delay = rules.crawl_delay(self.settings.user_agent)
        if delay:
            self.gate.set_crawl_delay(url, delay)
        if not rules.allows(self.settings.user_agent, url):
            raise RobotsDisallowed(url, rules.reason or "disallowed by robots.txt")

    # ---------------------------------------------------------------- requests
    def _get_with_retries(
        self, url: str, headers: dict[str, str], accepted: tuple[str, ...], check_robots: bool = False
    ) -> Response:
        _check_url(url)

        def waiting(seconds: float, error: FetchError) -> None:
            if isinstance(error, HttpStatusError) and error.retry_after is not None:
                self.gate.defer(url, seconds)  # every thread leaves the host alone meanwhile
            log.debug("retrying %s in %.1fs after %s", url, seconds, error)

        return with_retries(lambda: self._get(url, headers, accepted, check_robots), self.retry, on_wait=waiting)

    def _get(self, url: str, headers: dict[str, str], accepted_types: tuple[str, ...], check_robots: bool) -> Response:
        """One attempt; redirects are followed here, each hop through its host's gate (and robots.txt)."""
        current = url
        for _ in range(self.settings.max_redirects + 1):
            if check_robots:
                self._check_robots(current)
            with (
                self.gate.slot(current),
                self._translated(url),
                self._client.stream("GET", current, headers=headers, follow_redirects=False) as response,
            ):
                status = response.status_code
                if status == 304:
                    return _response(url, response, b"")
                location = response.headers.get("location", "").strip()
                if response.is_redirect and location:
                    current = urljoin(current, location)
                    _check_url(current)
                    continue
                if status >= 300:  # 4xx, 5xx, and a 3xx without a Location
                    raise HttpStatusError(url, status, _retry_after(response))
                content_type = response.headers.get("content-type", "").lower()
                if content_type and not any(t in content_type for t in accepted_types):
                    raise WrongContentType(url, f"unexpected content type {content_type!r}")
                return _response(url, response, self._read_bounded(url, response, self.settings.max_body_bytes))
        raise TooManyRedirects(url, f"more than {self.settings.max_redirects} redirects")

    def _get_robots(self, robots_url: str) -> tuple[int, bytes]:
        """(status, body) of a robots.txt; one attempt, a small body."""
        with (
            self.gate.slot(robots_url),
            self._translated(robots_url),
            self._client.stream("GET", robots_url, headers={"Accept": "text/plain"}) as response,
        ):
            if response.status_code >= 400:
                return response.status_code, b""
            return response.status_code, self._read_bounded(robots_url, response, MAX_ROBOTS_BYTES)

    def _translated(self, url: str):
        return _HttpxErrors(url, self.settings.max_redirects)

    @staticmethod
    def _read_bounded(url: str, response: httpx.Response, limit: int) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(url, f"body of {declared} bytes exceeds the {limit}-byte limit")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():  # decompressed: a gzip bomb is bounded too
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(url, f"body exceeds the {limit}-byte limit")
            chunks.append(chunk)
        return b"".join(chunks)


class _HttpxErrors:
    """Turns httpx's exceptions into FetchErrors that say what happened."""

    def __init__(self, url: str, max_redirects: int) -> None:
        self.url = url
        self.max_redirects = max_redirects

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        if exc is None or isinstance(exc, FetchError) or not isinstance(exc, httpx.HTTPError | httpx.InvalidURL):
            return False
        url = self.url
        if isinstance(exc, httpx.TooManyRedirects):
            raise TooManyRedirects(url, f"more than {self.max_redirects} redirects") from None
        if isinstance(exc, httpx.TimeoutException):
            raise TimedOut(url, f"timed out ({type(exc).__name__})") from None
        if isinstance(exc, httpx.RemoteProtocolError):
            raise TruncatedBody(url, f"connection broke off: {exc}") from None
        if isinstance(exc, httpx.ConnectError | httpx.NetworkError):
            raise ConnectFailed(url, f"cannot connect: {exc}") from None
        if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
            raise BadUrl(url, f"not a fetchable URL: {exc}") from None
        if isinstance(exc, httpx.DecodingError):
            raise TruncatedBody(url, f"body does not decode: {exc}") from None
        raise FetchError(url, f"{type(exc).__name__}: {exc}") from None


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadUrl(url, "not an http(s) URL")


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
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
