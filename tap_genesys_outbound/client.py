"""The base stream: every HTTP behaviour of the tap lives here.

* one OAuth token and one request budget shared by all streams (owned by the tap);
* 429 waits for `Retry-After`, 5xx and dropped connections back off
  exponentially with jitter, a 401 refreshes the token once;
* any other 4xx fails with the API's own message and, for 403, the permission
  the OAuth client's role is missing;
* a one-line summary per stream: records, requests, retries, rate-limit waits.
"""

from __future__ import annotations

import dataclasses
import time
import typing as t
from pathlib import Path

import backoff
import requests
from singer_sdk import RESTStream
from singer_sdk.schema.source import SchemaDirectory, StreamSchema
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.types import Context

from tap_genesys_outbound.errors import GenesysAPIError
from tap_genesys_outbound.pagination import CursorPaginator, EntityListingPaginator, response_json
from tap_genesys_outbound.retry import retry_after_seconds, seconds_before_retry

if t.TYPE_CHECKING:
    from tap_genesys_outbound.tap import TapGenesysOutbound

#: Wheels carry the schemas inside the package; a source checkout keeps them at the top level.
SCHEMAS_DIR = next(
    p for p in (Path(__file__).parent / "schemas", Path(__file__).parent.parent / "schemas") if p.is_dir()
)
#: Permission the OAuth client's role needs per endpoint, named when Genesys answers 403 (genesys-api.md).
REQUIRED_PERMISSIONS = {
    "/api/v2/outbound/campaigns/performance/query": "outbound:performance:view or outbound:campaign:view",
    "/api/v2/outbound/campaigns": "outbound:campaign:view",
    "/api/v2/outbound/wrapupcodemappings": "outbound:wrapUpCodeMapping:view",
    "/api/v2/outbound/callanalysisresponsesets": "outbound:responseSet:view",
    "/api/v2/outbound/diagnostics/campaigns": "outbound:campaignDiagnostic:view",
    "/api/v2/routing/wrapupcodes": "routing:wrapupCode:view",
    "/api/v2/analytics/conversations/details": "analytics:conversationDetail:view",
    "/api/v2/analytics/conversations/aggregates": "analytics:conversationAggregate:view",
    "/api/v2/analytics/flows/aggregates": "analytics:flowAggregate:view",
    "/api/v2/flows/outcomes": "architect:flowOutcome:view",
}
MAX_TRIES = 8
MAX_RETRY_SECONDS = 600


@dataclasses.dataclass
class SyncStats:
    """What the end-of-stream summary line reports."""

    records: int = 0
    requests: int = 0
    retries: int = 0
    rate_limit_wait_seconds: float = 0.0


class BudgetedSession(requests.Session):
    """A session that takes a token from the shared budget before every send, retries included."""

    def __init__(self, stream: GenesysStream) -> None:
        super().__init__()
        self._stream = stream

    def send(self, request: requests.PreparedRequest, **kwargs: t.Any) -> requests.Response:  # noqa: ANN401
        stats = self._stream.stats
        stats.rate_limit_wait_seconds += self._stream.budget.acquire()
        stats.requests += 1
        # The wait may have outlived the token attached earlier: attach a current one.
        return super().send(self._stream.authenticator(request), **kwargs)


class GenesysStream(RESTStream[t.Any]):
    """Base class of every Genesys Cloud stream."""

    #: Key of the record list in the response envelope.
    records_key = "entities"
    #: `schemas/<stream name>.json`
    schema = StreamSchema(SchemaDirectory(SCHEMAS_DIR))

    def __init__(self, tap: TapGenesysOutbound, **kwargs: t.Any) -> None:  # noqa: ANN401
        self.stats = SyncStats()
        super().__init__(tap, **kwargs)
        self._tap_ref = tap
        self._session = BudgetedSession(self)

    # --- wiring to the tap's shared objects -------------------------------------------------
    @property
    def url_base(self) -> str:
        return self._tap_ref.resolved.api_url

    @property
    def authenticator(self):  # noqa: ANN201
        return self._tap_ref.authenticator

    @property
    def budget(self):  # noqa: ANN201
        return self._tap_ref.budget

    @property
    def requests_session(self) -> requests.Session:
        return self._session

    @property
    def timeout(self) -> int:
        return int(self.config.get("request_timeout_seconds") or 60)

    @property
    def http_headers(self) -> dict:
        return {"Accept": "application/json"}

    def parse_response(self, response: requests.Response) -> t.Iterable[dict]:
        body = response_json(response)
        records = body.get(self.records_key)
        if records is None:
            if self.records_key in body or self._empty_page_allowed(body):
                return
            raise GenesysAPIError(
                f"{self.name}: {response.request.method} {self.path} answered without '{self.records_key}' "
                f"(keys: {', '.join(sorted(body)) or 'none'})"
            )
        if not isinstance(records, list):
            raise GenesysAPIError(
                f"{self.name}: {response.request.method} {self.path} answered '{self.records_key}' as a JSON "
                f"{type(records).__name__}, not a list"
            )
        yield from records

    def _empty_page_allowed(self, body: dict) -> bool:  # noqa: ARG002
        """Whether a body without the records key is a legitimate last page."""
        return False

    # --- errors and retries -----------------------------------------------------------------
    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        request = response.request
        if status == 401 and not getattr(request, "_genesys_reauthenticated", False):
            # Once per request: a token that expired or was revoked is replaced and the request retried.
            request._genesys_reauthenticated = True  # type: ignore[union-attr]  # noqa: SLF001
            self.authenticator.invalidate(request.headers.get("Authorization"))
            raise RetriableAPIError("401: access token expired or revoked; requesting a new one", response)
        if status == 429 or status >= 500:
            raise RetriableAPIError(self._describe_failure(response), response)
        raise GenesysAPIError(self._describe_failure(response))

    def _describe_failure(self, response: requests.Response) -> str:
        """`<stream>: <METHOD> <path> answered <status>: <Genesys message>` plus a hint."""
        request = response.request
        path = requests.utils.urlparse(response.url or request.url).path
        try:
            body = response.json()
            detail = body.get("message") or body.get("error_description") or body.get("error") or ""
            code = body.get("code")
        except (ValueError, AttributeError):
            detail, code = (response.text or "")[:300], None
        message = f"{self.name}: {request.method} {path} answered {response.status_code} {response.reason}"
        if detail:
            message += f": {detail}"
        if code:
            message += f" (code {code})"
        if response.status_code == 401:
            message += "; a freshly issued token was refused, check the OAuth client's roles and region"
        if response.status_code == 403:
            permission = next((p for prefix, p in REQUIRED_PERMISSIONS.items() if path.startswith(prefix)), None)
            if permission:
                message += f"; the OAuth client's role needs the '{permission}' permission"
            message += f" (or deselect the '{self.name}' stream)"
        return message

    def backoff_wait_generator(self) -> t.Generator[float, t.Any, None]:
        """Retry-After for 429s, jittered exponential backoff for the rest."""
        attempt = 0
        exception = yield  # type: ignore[misc]
        while True:
            attempt += 1
            response = getattr(exception, "response", None)
            wait = 0.0 if getattr(response, "status_code", None) == 401 else seconds_before_retry(response, attempt)
            if retry_after_seconds(response) is not None:
                self.budget.hold_off(wait)
                self.stats.rate_limit_wait_seconds += wait
            exception = yield wait

    def backoff_jitter(self, value: float) -> float:
        return value  # jitter is already part of backoff_wait_generator

    def backoff_handler(self, details: t.Mapping[str, t.Any]) -> None:
        self.stats.retries += 1
        exception = details.get("exception")
        response = getattr(exception, "response", None)
        reason = f"status {response.status_code}" if response is not None else type(exception).__name__
        self.logger.warning(
            "%s: retry %d in %.1f s after %s on %s", self.name, details.get("tries"), details.get("wait"), reason,
            self.path,
        )

    def request_decorator(self, func: t.Callable) -> t.Callable:
        """The SDK's retry decorator with a bounded total time and a one-line give-up error."""
        tries = [0]  # of the current call of request_or_explain

        def counted(*args: t.Any, **kwargs: t.Any) -> requests.Response:  # noqa: ANN401
            tries[0] += 1
            return func(*args, **kwargs)

        retrying = backoff.on_exception(
            self.backoff_wait_generator,
            (
                ConnectionResetError,
                RetriableAPIError,
                requests.exceptions.Timeout,
                requests.exceptions.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ),
            max_tries=MAX_TRIES,
            max_time=MAX_RETRY_SECONDS,
            on_backoff=self.backoff_handler,
            jitter=self.backoff_jitter,
            logger=None,
        )(counted)

        def request_or_explain(*args: t.Any, **kwargs: t.Any) -> requests.Response:  # noqa: ANN401
            tries[0] = 0
            started = time.monotonic()
            try:
                return retrying(*args, **kwargs)
            except RetriableAPIError as exc:
                gave_up = f"gave up after {tries[0]} tries in {time.monotonic() - started:.0f} s"
                raise GenesysAPIError(f"{exc}; {gave_up}") from None
            except (requests.exceptions.RequestException, ConnectionResetError) as exc:
                gave_up = f"gave up after {tries[0]} tries in {time.monotonic() - started:.0f} s"
                if isinstance(exc, requests.exceptions.Timeout) and not isinstance(
                        exc, requests.exceptions.ConnectTimeout):
                    url = getattr(args[0], "url", None) if args else None
                    path = requests.utils.urlparse(url).path if url else self.path
                    raise GenesysAPIError(
                        f"{self.name}: {self.url_base} did not answer {path} within request_timeout_seconds="
                        f"{self.timeout} ({type(exc).__name__}); {gave_up}"
                    ) from None
                raise GenesysAPIError(
                    f"{self.name}: could not reach {self.url_base} ({type(exc).__name__}); "
                    f"{gave_up}. Check api_url/region and the network."
                ) from None

        return request_or_explain

    # --- one-off requests outside the paginated flow ----------------------------------------
    def fetch_response(
        self, path: str, *, method: str = "GET", params: dict | None = None, body: t.Any = None,  # noqa: ANN401
    ) -> requests.Response:
        """One request with the stream's auth, budget, retries and error rules."""
        prepared = self.build_prepared_request(
            method=method, url=f"{self.url_base}{path}", params=params or {}, headers=self.http_headers,
            json=body,
        )
        return self.request_decorator(self._request)(prepared, None)

    def fetch_json(self, path: str, **kwargs: t.Any) -> dict:  # noqa: ANN401
        """`fetch_response` parsed; an empty body (DELETE) is `{}`."""
        response = self.fetch_response(path, **kwargs)
        return response_json(response) if response.content else {}

    def iter_listing(self, path: str, params: dict | None = None) -> t.Iterator[dict]:
        """Every entity of a GET `*EntityListing`, for lookups that are not streams of their own."""
        paginator = EntityListingPaginator()
        while not paginator.finished:
            response = self.fetch_response(path, params={**(params or {}), "pageSize": 100,
                                                         "pageNumber": paginator.current_value})
            yield from response_json(response).get("entities") or []
            paginator.advance(response)

    def iter_cursor_pages(self, path: str, params: dict | None = None) -> t.Iterator[dict]:
        """Every page of a GET paged by an opaque `cursor` (analytics job results)."""
        paginator = CursorPaginator()
        while not paginator.finished:
            cursor = paginator.current_value
            response = self.fetch_response(path, params={**(params or {}), **({"cursor": cursor} if cursor else {})})
            yield response_json(response)
            paginator.advance(response)

    # --- records and the summary line -------------------------------------------------------
    def generate_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """The stream's records; override instead of `get_records` so the summary counts them."""
        return self.request_records(context)

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        for record in self.generate_records(context):
            self.stats.records += 1
            yield record

    def sync(self, context: Context | None = None) -> None:
        started = time.monotonic()
        try:
            super().sync(context)
        finally:
            self.logger.info(
                "%s summary: %d records, %d requests, %d retries, %.1f s waited on rate limits, %.1f s in all",
                self.name, self.stats.records, self.stats.requests, self.stats.retries,
                self.stats.rate_limit_wait_seconds, time.monotonic() - started,
            )
