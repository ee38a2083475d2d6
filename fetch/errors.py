"""Precise fetch errors; each says whether trying again later can help."""

from __future__ import annotations


class FetchError(Exception):
    """A URL could not be fetched."""

    retryable = False

    def __init__(self, url: str, message: str) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url


class ConnectFailed(FetchError):
    retryable = True


class TimedOut(FetchError):
    retryable = True


class HttpStatusError(FetchError):
    def __init__(self, url: str, status: int, retry_after: float | None = None) -> None:
        super().__init__(url, f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after
        self.retryable = status == 429 or status >= 500


class TooManyRedirects(FetchError):
    pass


class BodyTooLarge(FetchError):
    pass


class WrongContentType(FetchError):
    pass


class RobotsDisallowed(FetchError):
    pass


class TruncatedBody(FetchError):
    retryable = True
