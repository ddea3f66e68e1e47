"""How long to wait before retrying a failed request.

Genesys answers 429 with `Retry-After` in seconds (its own SDKs wait that long,
3 s when the header is missing); 5xx and dropped connections get exponential
backoff with jitter. The SDK's default backoff ignores Retry-After
(meltano/sdk#2012), hence this module.
"""

from __future__ import annotations

import random
import typing as t

import requests

DEFAULT_RETRY_AFTER_SECONDS = 3.0
MAX_RETRY_AFTER_SECONDS = 300.0
MAX_BACKOFF_SECONDS = 30.0


def retry_after_seconds(response: requests.Response | None) -> float | None:
    """Seconds the server asked us to wait, or None when it is not a 429."""
    if response is None or response.status_code != 429:
        return None
    header = response.headers.get("Retry-After")
    try:
        seconds = float(header) if header is not None else DEFAULT_RETRY_AFTER_SECONDS
    except ValueError:  # an HTTP-date or garbage: fall back like Genesys's SDKs
        seconds = DEFAULT_RETRY_AFTER_SECONDS
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def exponential_backoff(attempt: int, rng: t.Callable[[float, float], float] = random.uniform) -> float:
    """Full-range jitter over 1, 2, 4, ... seconds, capped."""
    ceiling = min(MAX_BACKOFF_SECONDS, 2.0 ** (attempt - 1))
    return rng(ceiling / 2, ceiling)


def seconds_before_retry(response: requests.Response | None, attempt: int) -> float:
    """Retry-After (plus a hair of jitter) for 429s, exponential backoff otherwise."""
    server_wait = retry_after_seconds(response)
    if server_wait is not None:
        return server_wait + random.uniform(0.0, 0.2)
    return exponential_backoff(attempt)
