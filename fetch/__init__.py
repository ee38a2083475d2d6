"""HTTP fetching: one polite client for feeds and pages.

Knows nothing of feeds' contents, NLP or storage: it turns URLs into
``Response`` records or raises a precise ``FetchError``.
"""

from saidwhat.fetch.client import Fetcher, FetchSettingsLike, Response
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
from saidwhat.fetch.pages import PageDownload, download_pages
from saidwhat.fetch.politeness import HostGate
from saidwhat.fetch.retry import RetryPolicy

__all__ = [
    "BadUrl",
    "BodyTooLarge",
    "ConnectFailed",
    "FetchError",
    "FetchSettingsLike",
    "Fetcher",
    "HostGate",
    "HttpStatusError",
    "PageDownload",
    "Response",
    "RetryPolicy",
    "RobotsDisallowed",
    "TimedOut",
    "TooManyRedirects",
    "TruncatedBody",
    "WrongContentType",
    "download_pages",
]
