"""The HTTP client: timeouts, a bounded body, redirects, content types, retries and politeness.

One ``Fetcher`` is shared by the threads of a run. Every request, and every
redirect hop, waits for a slot of its host (``HostGate``); pages are checked
against the robots.txt of each host they lead to (``RobotsCache``); transient
failures are tried again (``RetryPolicy``). Anything else becomes a precise
``FetchError``.

httpx's timeouts bound each read, so a server that sends a few bytes every
half second is never idle long enough to time out. Each exchange therefore
also has a total deadline (``total_timeout_seconds``, see ``_Deadline``); a host
that keeps timing out is skipped for the rest of the run, so a site where every
page trickles costs about ``total_timeout_seconds`` x attempts, not x pages.
"""

from __future__ import annotations

import codecs
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
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
from saidwhat.fetch.politeness import HostGate, host_of
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
    total_timeout_seconds: float


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
        self.retry = retry or retry_module.policy_for(settings)
        self.total_timeout = float(getattr(settings, "total_timeout_seconds", 30.0))
        self.skip_host_after = int(getattr(settings, "skip_host_after_timeouts", 3))
        # Per host: the URLs that timed out since its last answer (retries of one URL count once).
        self._timed_out_urls: dict[str, set[str]] = {}
        self._timeouts_lock = threading.Lock()
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

    def get_text(self, url: str, accepted: tuple[str, ...] = PAGE_TYPES) -> str:
        """The body of ``url`` as text, under robots.txt, the deadline and the retry policy."""
        response = self._get_with_retries(url, {"Accept": "text/html, */*;q=0.5"}, accepted, self.respect_robots)
        return _as_text(response)

    def post_form(self, url: str, body: str, accepted: tuple[str, ...] = ("json", "javascript", "text")) -> str:
        """POST a form-encoded ``body``; the answer as text. Redirects are not followed (not a page)."""
        _check_url(url)
        headers = {"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"}

        def attempt() -> Response:
            if self.respect_robots:
                self._check_robots(url)
            return self._exchange("POST", url, url, headers, accepted, content=body.encode("utf-8"))

        return _as_text(with_retries(attempt, self.retry, on_wait=self._waiting(url)))

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
        return with_retries(
            lambda: self._get(url, headers, accepted, check_robots), self.retry, on_wait=self._waiting(url)
        )

    def _waiting(self, url: str):
        def waiting(seconds: float, error: FetchError) -> None:
            if isinstance(error, HttpStatusError) and error.retry_after is not None:
                self.gate.defer(url, seconds)  # every thread leaves the host alone meanwhile
            log.debug("retrying %s in %.1fs after %s", url, seconds, error)

        return waiting

    def _get(self, url: str, headers: dict[str, str], accepted_types: tuple[str, ...], check_robots: bool) -> Response:
        """One attempt; redirects are followed here, each hop through its host's gate (and robots.txt)."""
        current = url
        for _ in range(self.settings.max_redirects + 1):
            if check_robots:
                self._check_robots(current)
            hop = self._exchange("GET", url, current, headers, accepted_types)
            if hop.status in _REDIRECTS:  # _exchange returns a redirect only with its target
                current = hop.final_url
                continue
            return hop
        raise TooManyRedirects(url, f"more than {self.settings.max_redirects} redirects")

    def _exchange(
        self,
        method: str,
        url: str,
        current: str,
        headers: dict[str, str],
        accepted_types: tuple[str, ...],
        content: bytes | None = None,
    ) -> Response:
        """One request and its whole answer within the total deadline.

        A redirect comes back as a Response whose ``final_url`` is its target
        (and an empty body); anything unusable raises.
        """
        with self.gate.slot(current):
            self._skip_if_host_keeps_timing_out(url, current)
            with (
                _Deadline(self.total_timeout) as deadline,
                self._translated(url, deadline, current),
                self._client.stream(
                    method, current, headers=headers, content=content,
                    timeout=deadline.timeout(self.settings), extensions={"trace": deadline.trace},
                ) as response,
            ):  # fmt: skip
                deadline.watch(response.extensions.get("network_stream"))
                status = response.status_code
                if status == 304:
                    return _response(url, response, b"")
                location = response.headers.get("location", "").strip()
                if method == "GET" and response.is_redirect and location:
                    target = urljoin(current, location)
                    _check_url(target)
                    return _response(url, response, b"", final_url=target)
                if status >= 300:  # 4xx, 5xx, and a 3xx without a Location
                    error = HttpStatusError(url, status, _retry_after(response))
                    error.retryable = self.retry.retries_status(status)
                    raise error
                content_type = response.headers.get("content-type", "").lower()
                if content_type and not any(t in content_type for t in accepted_types):
                    raise WrongContentType(url, f"unexpected content type {content_type!r}")
                body = self._read_bounded(url, response, self.settings.max_body_bytes, deadline)
                return _response(url, response, body)

    def _get_robots(self, robots_url: str) -> tuple[int, bytes]:
        """(status, body) of a robots.txt; one attempt, a small body, the same deadline."""
        with self.gate.slot(robots_url):
            self._skip_if_host_keeps_timing_out(robots_url, robots_url)
            with (
                _Deadline(self.total_timeout) as deadline,
                self._translated(robots_url, deadline, robots_url),
                self._client.stream(
                    "GET", robots_url, headers={"Accept": "text/plain"},
                    timeout=deadline.timeout(self.settings), extensions={"trace": deadline.trace},
                ) as response,
            ):  # fmt: skip
                deadline.watch(response.extensions.get("network_stream"))
                if response.status_code >= 400:
                    return response.status_code, b""
                return response.status_code, self._read_bounded(robots_url, response, MAX_ROBOTS_BYTES, deadline)

    # ------------------------------------------------------ slow hosts
    def _skip_if_host_keeps_timing_out(self, url: str, current: str) -> None:
        """A host whose last ``skip_host_after_timeouts`` URLs all timed out is given up for this run.

        Without this, a site where every page trickles would cost a deadline per
        page; with it, about one deadline per attempt. One slow URL (and its
        retries) never stops the host's other pages.
        """
        host = host_of(current)
        with self._timeouts_lock:
            timed_out = len(self._timed_out_urls.get(host, ()))
        if timed_out >= self.skip_host_after:
            error = TimedOut(url, f"skipped: {timed_out} URLs of {host} in a row timed out in this run")
            error.retryable = False  # the host is given up for this run; trying again would only wait
            raise error

    def _count_timeout(self, url: str, current: str, timed_out: bool) -> None:
        host = host_of(current)
        with self._timeouts_lock:
            if timed_out:
                self._timed_out_urls.setdefault(host, set()).add(url)
            else:  # the host answered
                self._timed_out_urls.pop(host, None)

    def _translated(self, url: str, deadline: _Deadline, current: str) -> _HttpxErrors:
        def count(timed_out: bool) -> None:
            self._count_timeout(url, current, timed_out)

        return _HttpxErrors(url, self.settings.max_redirects, deadline, count)

    @staticmethod
    def _read_bounded(url: str, response: httpx.Response, limit: int, deadline: _Deadline) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(url, f"body of {declared} bytes exceeds the {limit}-byte limit")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():  # decompressed: a gzip bomb is bounded too
            deadline.check(url)
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(url, f"body exceeds the {limit}-byte limit")
            chunks.append(chunk)
        return b"".join(chunks)


_REDIRECTS = (301, 302, 303, 307, 308)


class _Deadline:
    """The total time one exchange may take: connect, headers and body together.

    Each wait is bounded by what is left (httpx's per-operation timeouts), and
    when the time is up a watchdog shuts the socket down, which wakes a read
    blocked on a server that trickles. Use as a context manager around one
    exchange; the watchdog is cancelled when it ends.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends_at = time.monotonic() + seconds
        self.expired = False
        self._done = False
        self._stream: Any = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._done = True
        self._timer.cancel()

    def remaining(self) -> float:
        return max(0.001, self.ends_at - time.monotonic())

    def timeout(self, settings: FetchSettingsLike) -> httpx.Timeout:
        left = self.remaining()
        read = min(settings.read_timeout, left)
        return httpx.Timeout(read, connect=min(settings.connect_timeout, left), pool=left)

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpcore's trace hook: learn the socket as soon as the connection is made."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self.watch(info.get("return_value"))

    def watch(self, stream: Any) -> None:
        if stream is None:
            return
        with self._lock:
            self._stream = stream
            if self.expired and not self._done:
                _shut_down(stream)

    def check(self, url: str) -> None:
        if self.expired or time.monotonic() >= self.ends_at:
            self.expired = True
            raise self.error(url)

    def error(self, url: str) -> TimedOut:
        return TimedOut(url, f"no complete answer within {self.seconds:g}s (total_timeout_seconds)")

    def _expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            if self._stream is not None:
                _shut_down(self._stream)


def _shut_down(stream: Any) -> None:
    """Wake a thread blocked reading this connection; httpcore then drops the connection."""
    try:
        sock = stream.get_extra_info("socket")
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
    except (OSError, AttributeError):
        pass


class _HttpxErrors:
    """Turns httpx's exceptions into FetchErrors that say what happened, and counts the host's timeouts."""

    def __init__(
        self, url: str, max_redirects: int, deadline: _Deadline, count_timeout: Callable[[bool], None]
    ) -> None:
        self.url = url
        self.max_redirects = max_redirects
        self.deadline = deadline
        self.count_timeout = count_timeout

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        timed_out = isinstance(exc, TimedOut) or (
            exc is not None and (self.deadline.expired or isinstance(exc, httpx.TimeoutException))
        )
        if exc is None or isinstance(exc, FetchError | httpx.HTTPError | httpx.InvalidURL):
            self.count_timeout(timed_out)
        if exc is None or isinstance(exc, FetchError) or not isinstance(exc, httpx.HTTPError | httpx.InvalidURL):
            return False
        url = self.url
        if self.deadline.expired:  # the watchdog cut the connection: whatever httpx says, it is the deadline
            raise self.deadline.error(url) from None
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


def _response(url: str, response: httpx.Response, body: bytes, final_url: str | None = None) -> Response:
    return Response(
        url=url,
        final_url=final_url or str(response.url),
        status=response.status_code,
        body=body,
        content_type=response.headers.get("content-type", ""),
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
    )


def _as_text(response: Response) -> str:
    body = response.text_or_bytes()
    return body if isinstance(body, str) else body.decode("utf-8", errors="replace")


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
