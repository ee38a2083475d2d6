"""HTTP fetching: one polite client for feeds and pages.

Knows nothing of feeds' contents, NLP or storage: it turns URLs into
``Response`` records or raises a precise ``FetchError``.
"""

from fetch.client import Fetcher, FetchSettingsLike, Response
from fetch.errors import (
    BodyTooLarge,
    ConnectFailed,
    FetchError,
    HttpStatusError,
    RobotsDisallowed,
    TimedOut,
    TooManyRedirects,
    WrongContentType,
)

__all__ = [
    "BodyTooLarge",
    "ConnectFailed",
    "FetchError",
    "FetchSettingsLike",
    "Fetcher",
    "HttpStatusError",
    "Response",
    "RobotsDisallowed",
    "TimedOut",
    "TooManyRedirects",
    "WrongContentType",
]
