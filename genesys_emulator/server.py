"""HTTP emulator of the Genesys Cloud public API (genesys-api.md), stdlib only: the socket layer.

`Api.dispatch` runs every request through the same pipeline: admin paths (/_emulator/..., admin.py)
bypass auth, faults and the request log; API paths pass the fault switches (faults.py), OAuth
(client credentials, bearer tokens that expire) and the optional per-token rate limiter, then the
routing table that the API families contribute:
listings.py (entity listings, wrap-up mapping, campaign live state), details.py (details query and
jobs), aggregates.py (conversation and flow aggregates, query and jobs); jobs.py holds the one async
job lifecycle they share. Rate-limit headers appear only while `enforce_rate_limit` is on. The log
keeps paths without query strings and status 0 for dropped connections.
Every /api/v2 request first sleeps the configured latency (faults.latency, in its own handler thread)
and is counted in `Emulator.in_flight` / `max_in_flight` while served, so the tap's concurrency is
observable; /oauth/token is neither delayed nor counted.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import json
import math
import re
import secrets
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import admin
from .aggregates import CONV_AGG, FLOW_AGG, Aggregates
from .dataset import Dataset, EmulatorConfig
from .details import DETAILS, Details
from .faults import Faults
from .jobs import JobStore
from .limits import Limits
from .listings import Listings
from .protocol import ApiError, Response

PERMISSIONS = {"/api/v2/outbound/campaigns": "outbound:campaign:view",
               "/api/v2/routing/wrapupcodes": "routing:wrapupCode:view",
               "/api/v2/outbound/wrapupcodemappings": "outbound:wrapUpCodeMapping:view",
               "/api/v2/outbound/callanalysisresponsesets": "outbound:responseSet:view",
               "/api/v2/flows/outcomes": "architect:flowOutcome:view",
               "/api/v2/outbound/contactlists": "outbound:contactList:view",
               "/api/v2/outbound/dnclists": "outbound:dncList:view",
               "/api/v2/outbound/events": "outbound:eventLog:view",
               "/api/v2/users": "directory:user:view",
               DETAILS: "analytics:conversationDetail:view",
               CONV_AGG: "analytics:conversationAggregate:view", FLOW_AGG: "analytics:flowAggregate:view",
               "/api/v2/outbound/diagnostics/campaigns": "outbound:campaignDiagnostic:view"}


class Api:
    """Everything behind the socket: dispatch(method, target, headers, body) -> Response."""

    def __init__(self, emulator: Emulator):
        self.emu, self.config, self.faults = emulator, emulator.config, emulator.faults
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}
        self.jobs = JobStore(self)
        families = [Listings(self), Details(self), Aggregates(self)]
        self.routes = [(m, re.compile(p), h) for m, p, h in
                       [("POST", "/oauth/token", self.token), *(r for f in families for r in f.routes())]]

    @property
    def dataset(self) -> Dataset:
        return self.emu.dataset

    def dispatch(self, method: str, target: str, headers, body: bytes) -> Response:
        url = urlsplit(target)
        path = url.path.rstrip("/") or "/"
        query = parse_qs(url.query, keep_blank_values=True)
        if path.startswith("/_emulator/"):
            return admin.handle(self.emu, method, path, body)
        if path.startswith("/api/v2/"):
            with self.emu.serving():
                time.sleep(self.faults.latency_seconds(self.config.latency_ms, self.config.latency_jitter))
                resp = self._serve(method, path, query, headers, body)
        else:                                  # /oauth/token stays fast and is not an API request in flight
            resp = self._serve(method, path, query, headers, body)
        if not resp.drop and self.faults.take("truncated_body", path) is not None:
            resp.truncate = True
        self.emu.log(method, path, 0 if resp.drop else resp.status)
        return resp

    def _serve(self, method, path, query, headers, body) -> Response:
        f = self.faults
        if f.take("drop_connections", path) is not None:
            return Response(0, drop=True)
        slow = f.take("slow", path)
        if slow:
            time.sleep(slow["seconds"])
        limited = f.take("rate_limit", path)
        if limited:
            s = limited["retry_after"]
            return ApiError(429, f"Rate limit exceeded the maximum. Retry the request in [{s}] seconds",
                            headers={"Retry-After": str(s)}).response()
        failure = f.take("server_errors", path)
        if failure:
            return ApiError(failure["status"], "The service is currently unavailable; try again later").response()
        limit_headers: dict = {}
        try:
            key = "oauth" if path == "/oauth/token" else self._authenticate(headers)
            allowed, limit_headers, reset = f.check_rate(key)
            if not allowed:
                raise ApiError(429, f"Rate limit exceeded the maximum. Retry the request in [{reset}] seconds",
                               headers={"Retry-After": str(reset)})
            resp = self._route(method, path, query, headers, body)
        except ApiError as e:
            resp = e.response()
        except Exception as e:                 # a bug or an odd body must not kill the connection
            resp = ApiError(500, f"Internal server error: {type(e).__name__}: {e}").response()
        resp.headers.update(limit_headers)
        return self._maybe_malformed(path, resp)

    def _route(self, method, path, query, headers, body) -> Response:
        handler, groups = None, {}
        for m, pattern, h in self.routes:
            match = pattern.fullmatch(path)
            if match and m == method:
                handler, groups = h, match.groupdict()
                break
        if handler is None:
            raise ApiError(404, f"Resource not found: {method} {path}")
        denied = self.faults.take("forbidden", path)
        if denied is not None:
            perm = denied["permission"] or next((p for prefix, p in PERMISSIONS.items()
                                                 if path.startswith(prefix)), "unknown:permission:view")
            raise ApiError(403, f"Unable to perform the requested action. You are missing permission {perm}")
        result = handler(path=path, query=query, headers=headers, body=body, **groups)
        return result if isinstance(result, Response) else Response(200, result)

    def _maybe_malformed(self, path: str, resp: Response) -> Response:
        if not (200 <= resp.status < 300 and isinstance(resp.body, dict)):
            return resp
        corrupt = self.faults.take("corrupt_record", path)
        if corrupt:
            resp = self._corrupt_first_record(resp, corrupt)
        fault = self.faults.take("malformed", path)
        if not fault:
            return resp
        if fault["kind"] == "non_json":
            html = b"<html><body><h1>Service temporarily unavailable</h1></body></html>"
            return Response(resp.status, raw=html, content_type="text/html", headers=resp.headers)
        bare = next((v for k, v in resp.body.items() if k in ("entities", "conversations")), [])
        return Response(resp.status, bare, resp.headers)

    @staticmethod
    def _corrupt_first_record(resp: Response, fault: dict) -> Response:
        key = next((k for k in ("conversations", "entities") if resp.body.get(k)), None)
        if key is None:
            return resp
        record = dict(resp.body[key][0])      # a copy: the dataset's cached doc stays intact
        if fault["drop"]:
            record.pop(fault["field"], None)
        else:
            record[fault["field"]] = fault["value"]
        return Response(resp.status, {**resp.body, key: [record, *resp.body[key][1:]]}, resp.headers)

    # -------------------------------------------------------------- auth
    def token(self, headers, body, **_) -> Response:
        cfg, creds = self.config, None
        auth = headers.get("Authorization") or ""
        if auth.startswith("Basic "):
            try:
                creds = tuple(base64.b64decode(auth[6:].strip()).decode().split(":", 1))
            except (binascii.Error, UnicodeDecodeError):
                creds = None
        if creds != (cfg.client_id, cfg.client_secret):
            return Response(401, {"error": "invalid_client", "description": "client not found"})
        grant = parse_qs(body.decode("utf-8", "replace")).get("grant_type")
        if grant != ["client_credentials"]:
            return Response(400, {"error": "unsupported_grant_type" if grant else "invalid_request",
                                  "description": "grant_type must be client_credentials"})
        ttl = self.faults.current_token_ttl or cfg.token_ttl
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = time.monotonic() + ttl
        announced = self.faults.announced_token_ttl or ttl
        return Response(200, {"access_token": token, "token_type": "bearer", "expires_in": math.ceil(announced)})

    def _authenticate(self, headers) -> str:
        auth = headers.get("Authorization") or ""
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            raise ApiError(401, "No authentication bearer token specified in authorization header.")
        token = auth[7:].strip()
        with self._lock:
            expires = self._tokens.get(token)
        if expires is None or expires <= time.monotonic():
            raise ApiError(401, "Invalid login credentials.")
        return token

# ------------------------------------------------------------------ sockets
class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"            # keep-alive, like the real API
    server_version = "GenesysCloudEmulator/1.0"
    timeout = 60

    def log_message(self, *args) -> None:    # the emulator keeps its own log
        pass

    def _hang_up(self) -> None:
        """Close the socket without finishing the response (a dropped connection)."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        resp = self.server.api.dispatch(self.command, self.path, self.headers, body)
        if resp.drop:
            self._hang_up()
            return
        data = resp.raw if resp.raw is not None else (b"" if resp.body is None else json.dumps(resp.body).encode())
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("inin-correlation-id", str(uuid.uuid4()))
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if resp.truncate:                    # a connection dropped mid-body
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self._hang_up()
            return
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):   # clients hanging up is normal
            super().handle_error(request, client_address)


class Emulator:
    """Owns the dataset, faults, request log and the server thread. Usable as a context manager."""

    def __init__(self, config: EmulatorConfig | None = None, **overrides):
        self.config = dataclasses.replace(config or EmulatorConfig(), **overrides)
        self.dataset = Dataset.generate(self.config)
        self.faults = Faults()
        self.requests: list[tuple[str, str, int]] = []
        self._log_lock = threading.Lock()
        self.in_flight = self.max_in_flight = 0      # /api/v2 requests being served now / at most so far
        self.api = Api(self)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def client_id(self) -> str:
        return self.config.client_id

    @property
    def client_secret(self) -> str:
        return self.config.client_secret

    @property
    def limits(self) -> Limits:
        """The API limits switched on now (limits.py); change them with `faults.limits(...)`."""
        return self.faults.current_limits

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Emulator:
        server = _Server((self.config.host, self.config.port), _Handler)
        server.api = self.api
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="genesys-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def issued_tokens(self) -> list[str]:
        """Every access token handed out so far (e.g. to assert the tap never logs one)."""
        with self.api._lock:
            return list(self.api._tokens)

    # -------------------------------------------------------------- request log
    def log(self, method: str, path: str, status: int) -> None:
        with self._log_lock:
            self.requests.append((method, path, status))

    def reset_log(self) -> None:
        """Forget the logged requests and restart max_in_flight from the requests in flight now."""
        with self._log_lock:
            self.requests.clear()
            self.max_in_flight = self.in_flight

    @contextlib.contextmanager
    def serving(self):
        """Count one API request in flight for the duration of the block (the tap's concurrency shows here)."""
        with self._log_lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            yield
        finally:
            with self._log_lock:
                self.in_flight -= 1

    def request_count(self, path_prefix: str | None = None, method: str | None = None) -> int:
        with self._log_lock:
            return sum(1 for m, p, _ in self.requests
                       if (path_prefix is None or p.startswith(path_prefix)) and (method is None or m == method))

    def request_summary(self) -> dict:
        with self._log_lock:
            log = list(self.requests)
        counts: dict[str, int] = {}
        for m, p, s in log:
            counts[f"{m} {p} {s}"] = counts.get(f"{m} {p} {s}", 0) + 1
        return {"total": len(log), "counts": counts, "log": [list(entry) for entry in log],
                "in_flight": self.in_flight, "max_in_flight": self.max_in_flight}
