"""What every handler speaks: `Response`, `ApiError` (the Genesys error body) and request parsing.

Errors have the Genesys body {message, code, status, contextId, details, errors}; the code comes from
the status unless given. Shared here so every API family validates ids, intervals and integers alike.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field

from .dataset import to_ms

ERROR_CODES = {400: "bad.request", 401: "bad.credentials", 403: "missing.any.permissions",
               404: "not.found", 429: "too.many.requests.retry.after", 500: "internal.server.error",
               502: "bad.gateway", 503: "service.unavailable", 504: "gateway.timeout"}


@dataclass
class Response:
    status: int
    body: object = None
    headers: dict = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json"
    drop: bool = False
    truncate: bool = False        # write half the body, then close (truncated_body fault)


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}
        self.code = code or ERROR_CODES.get(status, "error")

    def response(self) -> Response:
        body = {"message": self.message, "code": self.code, "status": self.status,
                "contextId": str(uuid.uuid4()), "details": [], "errors": []}
        return Response(self.status, body, dict(self.headers))


def parse_json(body: bytes):
    try:
        return json.loads(body or b"null")
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON") from None


def json_object(body: bytes) -> dict:
    doc = parse_json(body)
    if not isinstance(doc, dict):
        raise ApiError(400, "The request body must be a JSON object")
    return doc


def int_value(raw, name: str, default: int, maximum: int | None) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ApiError(400, f"{name} must be an integer, got '{raw}'") from None
    if value < 1 or (maximum is not None and value > maximum):
        bound = f"between 1 and {maximum}" if maximum else "at least 1"
        raise ApiError(400, f"Invalid {name} [{value}]: the value must be {bound}")
    return value


def int_param(query: dict, name: str, default: int, maximum: int | None) -> int:
    return int_value(last_param(query, name), name, default, maximum)


def last_param(query: dict, name: str, default=None):
    """The last value of a repeated query parameter (parse_qs gives lists)."""
    return (query.get(name) or [default])[-1]


def list_param(query: dict, name: str) -> set[str]:
    """A list parameter, comma-joined and/or repeated (the SDK comma-joins)."""
    return {v for raw in query.get(name, []) for v in raw.split(",") if v}


def parse_interval(text) -> tuple[int, int]:
    """An analytics `interval` 'start/end' -> epoch ms; 400 unless both have offsets and end > start."""
    try:
        a, b = str(text).split("/")
        start, end = to_ms(a), to_ms(b)
    except (ValueError, TypeError):
        raise ApiError(400, f"Invalid interval '{text}': expected ISO-8601 'start/end' with offsets") from None
    if text is None or end <= start:
        raise ApiError(400, f"Invalid interval '{text}': the end must be after the start")
    return start, end
