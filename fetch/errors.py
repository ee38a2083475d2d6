"""Precise fetch errors; each says whether trying again later can help."""

from __future__ import annotations


class FetchError(Exception):
    """A URL could not be fetched."""

    retryable = False

    def __init__(self, url: str, message: str) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url
        self.attempts = 1  # how many tries it took to give up

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text} (after {self.attempts} attempts)" if self.attempts > 1 else text

    def __reduce__(self):  # picklable for Prefect results and process pools
        return (_rebuild, (type(self), self.__dict__.copy(), self.args))


def _rebuild(cls: type[FetchError], state: dict, args: tuple) -> FetchError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class BadUrl(FetchError):
    """Not an http(s) URL."""


class ConnectFailed(FetchError):
    retryable = True


class TimedOut(FetchError):
    retryable = True


class HttpStatusError(FetchError):
    def __init__(self, url: str, status: int, retry_after: float | None = None) -> None:
        detail = f"HTTP {status}" + (f" (Retry-After {retry_after:g}s)" if retry_after is not None else "")
        super().__init__(url, detail)
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
