"""Errors that are the user's to fix, or the API's to explain, in one line.

The console entry point (`tap.main`) prints any `UserFacingError` as a single
line and exits non-zero, so a wrong setting or a refused credential never ends
in a stack trace. Messages must never contain secrets or tokens.
"""

from __future__ import annotations

from singer_sdk.exceptions import FatalAPIError


class UserFacingError(Exception):
    """An error whose message alone tells the user what to do."""


class ConfigError(UserFacingError):
    """A setting is missing or invalid; raised before any HTTP call."""

    def __init__(self, setting: str, expected: str) -> None:
        self.setting = setting
        super().__init__(f"Invalid setting '{setting}': expected {expected}")


class StateError(UserFacingError):
    """The `--state` file cannot be used: not JSON, not a Singer state, or a bookmark that is no timestamp."""

    def __init__(self, problem: str) -> None:
        super().__init__(
            f"Unusable state: {problem}. Fix or delete the state (or only that stream's bookmark) to re-read "
            "from start_date; nothing was read"
        )


class GenesysAPIError(UserFacingError, FatalAPIError):
    """The API refused a request for good (4xx) or kept failing past the retry budget.

    `status` is the HTTP status (None when no answer came) and `code` the API's error `code`,
    so callers test `exc.status == 404` rather than matching message text; `detail` is the API's own
    message alone (what `adaptive_limits` reads and logs).
    """

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 detail: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = detail


class CredentialsRefusedError(GenesysAPIError):
    """The token endpoint rejected client_id/client_secret."""
