"""The one Genesys Cloud API client: every HTTP request of the tap goes through `GenesysClient`.

Why one client: the rate limit is per OAuth token, so the token, the request budget, the retry
rules and the error messages must be shared by every stream, lookup and (later) worker thread.

* `send` takes one token from the shared `RequestBudget` before every try (retries included),
  attaches a current token, and retries: 429 after `Retry-After` (holding back every other
  request of the run too), 5xx and dropped connections with jittered exponential backoff, a 401
  with a new token (at most 3 per request). Retries are bounded in tries and seconds and end in one line.
* Any other 4xx raises `GenesysAPIError` with the HTTP status, the API's `code` and message,
  and for 403 the permission the OAuth client's role lacks.
* `iter_pages` is the one paging loop, driven by the SDK's paginator classes
  (`pagination.py`); `iter_entities` is its common use, and `iter_query_pages` its fetch-ahead
  form for the analytics queries paged by page number (job results page in `analytics_jobs`,
  which may ask the same cursor again with a smaller page).
* At most `max_concurrent_requests` requests are on the wire at once, from any thread.

Thread safety: each thread gets its own `requests.Session` (connection pools are not shared
across threads); the budget and the authenticator are locked; the counters are locked.
`for_stream` gives each stream a view with its own counters for its summary line.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
import typing as t
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import urlsplit

import backoff
import requests
from singer_sdk.streams.rest import HTTPRequest

from tap_genesys_outbound.errors import GenesysAPIError
from tap_genesys_outbound.pagination import (
    EntityListingPaginator,
    QueryPageNumberPaginator,
    decode_json,
    page_envelope,
)
from tap_genesys_outbound.prefetch import JobSlots
from tap_genesys_outbound.retry import retry_after_seconds, seconds_before_retry

if t.TYPE_CHECKING:
    import logging

    from singer_sdk.pagination import BaseAPIPaginator

    from tap_genesys_outbound.auth import GenesysAuthenticator
    from tap_genesys_outbound.rate_limit import RequestBudget

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
    "/api/v2/outbound/contactlists": "outbound:contactList:view",
    "/api/v2/outbound/dnclists": "outbound:dncList:view",
    "/api/v2/outbound/events": "outbound:eventLog:view",
    "/api/v2/users": "directory:user:view",
}
MAX_TRIES = 8
MAX_RETRY_SECONDS = 600
#: New tokens one request may ask for after a 401: a token can die in the budget's queue between being
#: attached and being sent when the server revokes tokens earlier than their `expires_in`.
MAX_REAUTHENTICATIONS = 3
LISTING_PAGE_SIZE = 100  # the documented maximum of the outbound listings
RETRIED_EXCEPTIONS = (
    ConnectionResetError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


class RetriableResponse(Exception):
    """A response worth another try (429, 5xx, a first 401); carries the response for the wait."""

    def __init__(self, message: str, response: requests.Response) -> None:
        super().__init__(message)
        self.response = response


@dataclasses.dataclass
class RequestStats:
    """Counters for one summary line; shared by the threads of one stream, hence the lock."""

    requests: int = 0
    retries: int = 0
    rate_limit_wait_seconds: float = 0.0
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, *, requests: int = 0, retries: int = 0, waited: float = 0.0) -> None:
        with self._lock:
            self.requests += requests
            self.retries += retries
            self.rate_limit_wait_seconds += waited


class _Transport:
    """What every view of the client shares: base URL, token, budget, timeout, per-thread sessions,
    the cap on requests in flight and the thread pool that fetches pages ahead."""

    def __init__(self, *, api_url: str, authenticator: GenesysAuthenticator, budget: RequestBudget,
                 timeout: float, max_in_flight: int) -> None:
        self.api_url = api_url.rstrip("/")
        self.authenticator = authenticator
        self.budget = budget
        self.timeout = timeout
        self.max_in_flight = max_in_flight
        self.in_flight = threading.BoundedSemaphore(max_in_flight)
        self._local = threading.local()
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()

    @property
    def executor(self) -> ThreadPoolExecutor:
        """Threads for pages fetched ahead; requests in flight stay capped by `in_flight` whatever the threads."""
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=self.max_in_flight, thread_name_prefix="genesys-page")
            return self._executor

    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers["Accept"] = "application/json"
        return session


class GenesysClient:
    """Budgeted, retrying, thread-safe access to the Genesys Cloud API (see the module docstring)."""

    def __init__(self, *, api_url: str, authenticator: GenesysAuthenticator, budget: RequestBudget,
                 timeout: float, logger: logging.Logger, label: str = "tap", max_in_flight: int = 1,
                 max_jobs: int = 1) -> None:
        self._transport = _Transport(api_url=api_url, authenticator=authenticator, budget=budget, timeout=timeout,
                                     max_in_flight=max_in_flight)
        self._transport.job_slots = JobSlots(max_jobs, logger)
        self.logger = logger
        self.label = label
        self.stats = RequestStats()

    def for_stream(self, label: str) -> GenesysClient:
        """A view sharing token, budget and sessions, with its own counters and log label."""
        view = object.__new__(GenesysClient)
        view._transport, view.logger, view.label, view.stats = self._transport, self.logger, label, RequestStats()
        return view

    @property
    def api_url(self) -> str:
        return self._transport.api_url

    @property
    def authenticator(self) -> GenesysAuthenticator:
        return self._transport.authenticator

    @property
    def budget(self) -> RequestBudget:
        return self._transport.budget

    @property
    def max_in_flight(self) -> int:
        return self._transport.max_in_flight

    @property
    def job_slots(self) -> JobSlots:
        """How many analytics jobs may be in flight at once (shared by the run)."""
        return self._transport.job_slots

    # --- one request ------------------------------------------------------------------------
    def send(self, http_request: HTTPRequest, *,
             on_rate_limited: t.Callable[[requests.Response], None] | None = None) -> requests.Response:
        """Send one request under the shared budget, retrying as the module docstring says.

        `on_rate_limited` is told of each 429 before its Retry-After wait (job submission lowers the
        number of jobs in flight with it)."""
        prepared = requests.Request(
            method=http_request.method, url=http_request.url, params=http_request.encode_params() or None,
            headers=http_request.headers or None, json=http_request.data,
        ).prepare()
        tries = 0
        started = time.monotonic()
        reauthentications = [0]

        def attempt() -> requests.Response:
            nonlocal tries
            tries += 1
            return self._send_once(prepared, reauthentications)

        def on_backoff(details: t.Mapping[str, t.Any]) -> None:
            response = getattr(details.get("exception"), "response", None)
            if on_rate_limited is not None and getattr(response, "status_code", None) == 429:
                on_rate_limited(response)
            self._log_retry(details)

        retrying = backoff.on_exception(
            self._wait_generator, (RetriableResponse, *RETRIED_EXCEPTIONS),
            max_tries=lambda: MAX_TRIES, max_time=lambda: MAX_RETRY_SECONDS,
            on_backoff=on_backoff, jitter=None, logger=None,
        )(attempt)
        try:
            return retrying()
        except RetriableResponse as exc:
            raise GenesysAPIError(f"{exc}; {_gave_up(tries, started)}", status=exc.response.status_code,
                                  code=_api_code(exc.response)) from None
        except requests.exceptions.Timeout as exc:
            if isinstance(exc, requests.exceptions.ConnectTimeout):
                raise self._unreachable(exc, tries, started) from None
            raise GenesysAPIError(
                f"{self.label}: {self.api_url} did not answer {urlsplit(prepared.url).path} within "
                f"request_timeout_seconds={self._transport.timeout:g} ({type(exc).__name__}); "
                f"{_gave_up(tries, started)}"
            ) from None
        except (requests.exceptions.RequestException, ConnectionResetError) as exc:
            raise self._unreachable(exc, tries, started) from None

    def _send_once(self, prepared: requests.PreparedRequest, reauthentications: list[int]) -> requests.Response:
        transport = self._transport
        with transport.in_flight:  # at most max_concurrent_requests on the wire, whichever thread sends
            waited = transport.budget.acquire()
            self.stats.add(requests=1, waited=waited)
            # The wait may have outlived the token attached on an earlier try: attach a current one.
            response = transport.session.send(transport.authenticator(prepared), timeout=transport.timeout)
        status = response.status_code
        if status < 400:
            return response
        if status == 401 and reauthentications[0] < MAX_REAUTHENTICATIONS:
            # A token that expired or was revoked is replaced and the request retried (a few times at most:
            # a token refused right after it was issued means the credentials, not the token).
            reauthentications[0] += 1
            transport.authenticator.invalidate(prepared.headers.get("Authorization"))
            raise RetriableResponse("401: access token expired or revoked; requesting a new one", response)
        if status == 429 or status >= 500:
            raise RetriableResponse(self.describe_failure(response), response)
        raise GenesysAPIError(self.describe_failure(response), status=status, code=_api_code(response),
                              detail=_api_message(response))

    def _wait_generator(self) -> t.Generator[float, t.Any, None]:
        """Retry-After for 429s (holding back the whole run), jittered exponential backoff for the rest."""
        attempt = 0
        exception = yield  # type: ignore[misc]
        while True:
            attempt += 1
            response = getattr(exception, "response", None)
            wait = 0.0 if getattr(response, "status_code", None) == 401 else seconds_before_retry(response, attempt)
            if retry_after_seconds(response) is not None:
                self.budget.hold_off(wait)
                self.stats.add(waited=wait)
            exception = yield wait

    def _log_retry(self, details: t.Mapping[str, t.Any]) -> None:
        self.stats.add(retries=1)
        exception = details.get("exception")
        response = getattr(exception, "response", None)
        reason = f"status {response.status_code}" if response is not None else type(exception).__name__
        request = response.request if response is not None else getattr(exception, "request", None)
        target = f"{request.method} {urlsplit(request.url).path}" if request is not None else self.api_url
        self.logger.warning("%s: retry %d in %.1f s after %s on %s", self.label, details.get("tries"),
                            details.get("wait") or 0.0, reason, target)

    def _unreachable(self, exc: BaseException, tries: int, started: float) -> GenesysAPIError:
        return GenesysAPIError(f"{self.label}: could not reach {self.api_url} ({type(exc).__name__}); "
                               f"{_gave_up(tries, started)}. Check api_url/region and the network.")

    def describe_failure(self, response: requests.Response) -> str:
        """`<label>: <METHOD> <path> answered <status>: <Genesys message> (code …)` plus a hint."""
        request = response.request
        path = urlsplit(response.url or request.url).path
        detail, code = _api_message(response), _api_code(response)
        message = f"{self.label}: {request.method} {path} answered {response.status_code} {response.reason}"
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
            message += f" (or deselect the '{self.label}' stream)"
        return message

    # --- JSON conveniences ------------------------------------------------------------------
    def request(self, method: str, path: str, *, params: dict | None = None,
                body: t.Any = None) -> requests.Response:  # noqa: ANN401
        return self.send(HTTPRequest(url=f"{self.api_url}{path}", method=method, params=params or {}, data=body))

    def get_json(self, path: str, params: dict | None = None) -> t.Any:  # noqa: ANN401
        return decode_json(self.request("GET", path, params=params))

    def post_json(self, path: str, body: t.Any, params: dict | None = None, *,  # noqa: ANN401
                  on_rate_limited: t.Callable[[requests.Response], None] | None = None) -> t.Any:  # noqa: ANN401
        http_request = HTTPRequest(url=f"{self.api_url}{path}", method="POST", params=params or {}, data=body)
        return decode_json(self.send(http_request, on_rate_limited=on_rate_limited))

    def delete(self, path: str) -> None:
        self.request("DELETE", path)

    # --- paging -----------------------------------------------------------------------------
    def iter_pages(self, build_request: t.Callable[[t.Any], HTTPRequest],
                   paginator: BaseAPIPaginator) -> t.Iterator[requests.Response]:
        """Every page of one listing: `build_request(page token)` says what to send for each page."""
        while not paginator.finished:
            response = self.send(build_request(paginator.current_value))
            yield response
            paginator.advance(response)

    def iter_query_pages(self, build_request: t.Callable[[int], HTTPRequest], paginator: QueryPageNumberPaginator, *,
                         ahead: int = 1) -> t.Iterator[requests.Response]:
        """The pages of an analytics query paged by page number, in order, up to `ahead` requested at once.

        Page 1 comes alone; its `totalHits` (approximate and often low) says how many pages to expect, and up to
        `ahead` of those are requested together. Past them pages are read one by one until the paginator ends
        (an empty page, or a short one once `totalHits` is reached), so a low `totalHits` never cuts a listing.
        """
        if ahead <= 1:
            yield from self.iter_pages(build_request, paginator)
            return
        pending: collections.deque[Future] = collections.deque()
        expected_pages, next_number = 1, 2
        try:
            while not paginator.finished:
                number = paginator.current_value
                while next_number <= expected_pages and len(pending) < ahead:
                    pending.append(self._transport.executor.submit(self.send, build_request(next_number)))
                    next_number += 1
                response = pending.popleft().result() if pending else self.send(build_request(number))
                next_number = max(next_number, number + 1)
                if number == 1:
                    total_hits = page_envelope(response).totalHits
                    if total_hits:
                        expected_pages = -(-total_hits // paginator.page_size)
                yield response
                paginator.advance(response)
        finally:
            for future in pending:  # pages asked for past the end: their answers are not needed
                future.cancel()

    def iter_entities(self, path: str, params: dict | None = None) -> t.Iterator[dict]:
        """Every entity of a GET `*EntityListing` (pageNumber/pageCount; an empty page mid-listing is not the end)."""
        for entities in self.iter_entity_pages(path, params):
            yield from entities

    def iter_entity_pages(self, path: str, params: dict | None = None) -> t.Iterator[list[dict]]:
        """The `entities` of each page of a GET `*EntityListing`, a page at a time (a caller may stop early)."""
        def page(number: int) -> HTTPRequest:
            return HTTPRequest(url=f"{self.api_url}{path}",
                               params={**(params or {}), "pageSize": LISTING_PAGE_SIZE, "pageNumber": number})

        for response in self.iter_pages(page, EntityListingPaginator()):
            yield records_of(response, "entities", self.label)


def records_of(response: requests.Response, records_key: str, label: str, *,
               absent_when: t.Collection[str] = ()) -> list:
    """The record list of a page: missing or mistyped is one clear error, never a silent empty page.

    `absent_when`: envelope keys whose presence makes a missing `records_key` a legitimate empty
    page (the details query omits `conversations` past its last page but still sends `totalHits`).
    """
    body = decode_json(response)
    records = body.get(records_key) if isinstance(body, dict) else None
    if records is None:
        if isinstance(body, dict) and (records_key in body or any(key in body for key in absent_when)):
            return []
        keys = ", ".join(sorted(body)) if isinstance(body, dict) else f"a JSON {type(body).__name__}"
        raise GenesysAPIError(f"{label}: {response.request.method} {urlsplit(response.url).path} answered "
                              f"without '{records_key}' (keys: {keys or 'none'})")
    if not isinstance(records, list):
        raise GenesysAPIError(f"{label}: {response.request.method} {urlsplit(response.url).path} answered "
                              f"'{records_key}' as a JSON {type(records).__name__}, not a list")
    return records


def _api_message(response: requests.Response) -> str:
    try:
        body = response.json()
        return body.get("message") or body.get("error_description") or body.get("error") or ""
    except (ValueError, AttributeError):
        return (response.text or "")[:300]


def _api_code(response: requests.Response) -> str | None:
    try:
        return response.json().get("code")
    except (ValueError, AttributeError):
        return None


def _gave_up(tries: int, started: float) -> str:
    return f"gave up after {tries} tries in {time.monotonic() - started:.0f} s"
