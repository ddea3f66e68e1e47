"""Switchable, deterministic fault injection (thread-safe).

Counted faults fire on the next `count` requests whose path starts with `path` (None = every
API path, /oauth/token included; the /_emulator admin paths are never faulted). `forbidden` stays
on until cleared. Every firing is tallied in `fired[kind]` so tests can prove the tap saw it.
The same keys drive `set(...)` and the HTTP admin endpoint `POST /_emulator/faults`, e.g.
`{"rate_limit": {"count": 2, "retry_after": 1}, "token_ttl": 5, "forbidden": [{"path": "/api/v2/flows"}]}`.

`limits(...)` switches API limits that answer 400 with a message naming them (limits.py).
`latency(ms, jitter)` replaces the config's `latency_ms`/`latency_jitter` until cleared: every /api/v2
request then takes ms * (1 +- jitter) in its own handler thread (other requests are not held up);
/oauth/token and admin paths stay fast. `{"latency": {"ms": 500, "jitter": 0.2}}` over HTTP.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace

from .limits import Limits

JOB_OUTCOMES = ("FAILED", "EXPIRED", "PENDING_FOREVER", "FULFILLED")
MALFORMED_KINDS = ("non_json", "missing_envelope")


@dataclass
class _Rule:
    kind: str
    path: str | None
    remaining: int | None          # None = until cleared
    params: dict


class Faults:
    KINDS = ("rate_limit", "enforce_rate_limit", "server_errors", "drop_connections", "slow",
             "token_ttl", "job_outcome", "forbidden", "malformed", "empty_page", "corrupt_record",
             "truncated_body", "latency", "limits")

    def __init__(self):
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Switch every fault off and reset the `fired` tallies."""
        with self._lock:
            self.fired: Counter = Counter()
            self._rules: list[_Rule] = []
            self._per_minute: int | None = None
            self._windows: dict[str, tuple[float, int]] = {}
            self._token_ttl: float | None = None
            self._token_announced: float | None = None
            self._latency: tuple[float, float] | None = None
            self._limits = Limits()
            self._rng = random.Random(0)            # latency jitter: the same sequence on every run

    # ------------------------------------------------------------ switches
    def rate_limit(self, count: int = 1, retry_after: int = 2, path: str | None = None) -> None:
        """The next `count` matching requests get 429 + Retry-After."""
        self._add("rate_limit", path, count, retry_after=retry_after)

    def server_errors(self, count: int = 1, status: int = 503, path: str | None = None) -> None:
        self._add("server_errors", path, count, status=status)

    def drop_connections(self, count: int = 1, path: str | None = None) -> None:
        """Close the socket without writing any response."""
        self._add("drop_connections", path, count)

    def slow(self, seconds: float = 1.0, count: int = 1, path: str | None = None) -> None:
        self._add("slow", path, count, seconds=seconds)

    def malformed(self, kind: str = "non_json", count: int = 1, path: str | None = None) -> None:
        """non_json: 200 with an HTML body; missing_envelope: 200 with the bare item list."""
        if kind not in MALFORMED_KINDS:
            raise ValueError(f"malformed kind must be one of {MALFORMED_KINDS}")
        self._add("malformed", path, count, kind=kind)

    def corrupt_record(self, field: str = "participants", value=None, drop: bool = False, count: int = 1,
                       path: str | None = None) -> None:
        """The first record of the next `count` matching 200 pages (`conversations` or `entities`) gets
        `field` set to `value`, or removed when `drop` (a copy: the dataset is untouched)."""
        self._add("corrupt_record", path, count, field=field, value=value, drop=drop)

    def truncated_body(self, count: int = 1, path: str | None = None) -> None:
        """Send the status line, headers and half the body, then close the socket (dropped mid-body)."""
        self._add("truncated_body", path, count)

    def empty_page(self, count: int = 1, path: str | None = None) -> None:
        """The next `count` matching listing pages come back with `entities: []` but the envelope
        intact (pageCount/nextUri still say more), as a page whose items a filter removed would."""
        self._add("empty_page", path, count)

    def job_outcome(self, state: str = "FAILED", count: int = 1) -> None:
        """The next `count` submitted analytics jobs end in `state` instead of FULFILLED."""
        if state not in JOB_OUTCOMES:
            raise ValueError(f"job state must be one of {JOB_OUTCOMES}")
        self._add("job_outcome", None, count, state=state)

    def forbidden(self, path: str, permission: str | None = None) -> None:
        """403 missing.any.permissions for a path prefix until cleared (permission: server default)."""
        self._add("forbidden", path, None, permission=permission)

    def token_ttl(self, seconds: float | None, announced: float | None = None) -> None:
        """Tokens issued from now on expire after `seconds` (None = back to the config value).
        `announced`: the `expires_in` the token response claims instead (a server that revokes early)."""
        with self._lock:
            self._token_ttl = seconds
            self._token_announced = announced

    def latency(self, ms: float, jitter: float = 0.2) -> None:
        """Server time per /api/v2 request: ms * (1 + uniform(-jitter, +jitter)); ms=0 switches it off."""
        if ms < 0 or not 0 <= jitter <= 1:
            raise ValueError("latency needs ms >= 0 and 0 <= jitter <= 1")
        with self._lock:
            self._latency = (ms, jitter)

    def limits(self, **limits) -> None:
        """Switch API limits on (merged into the current ones; None switches one off). See limits.py."""
        with self._lock:
            self._limits = replace(self._limits, **limits)

    @property
    def current_limits(self) -> Limits:
        return self._limits

    def latency_seconds(self, default_ms: float, default_jitter: float) -> float:
        """One draw of the current latency (the switch, else the config defaults), in seconds."""
        with self._lock:
            ms, jitter = self._latency or (default_ms, default_jitter)
            return max(0.0, ms * (1 + self._rng.uniform(-jitter, jitter))) / 1000 if ms else 0.0

    def enforce_rate_limit(self, per_minute: int | None) -> None:
        """A real fixed-window limiter per token (60 s windows); None/0 switches it off."""
        with self._lock:
            self._per_minute, self._windows = (per_minute or None), {}

    def set(self, **faults) -> None:
        """Apply several switches: a dict value is keyword args, a list repeats, a scalar is positional."""
        for name, args in faults.items():
            if name not in self.KINDS:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(self.KINDS)}")
            for one in args if isinstance(args, list) else [args]:
                if isinstance(one, dict):
                    getattr(self, name)(**one)
                else:
                    getattr(self, name)(one)

    # ------------------------------------------------------------ used by the server
    def _add(self, fault: str, path: str | None, count: int | None, **params) -> None:
        with self._lock:
            self._rules.append(_Rule(fault, path, count, params))

    def take(self, kind: str, path: str = "") -> dict | None:
        """Consume one firing of the first live `kind` rule matching `path`; its params or None."""
        with self._lock:
            for rule in self._rules:
                if rule.kind == kind and (rule.path is None or path.startswith(rule.path)):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining <= 0:
                            self._rules.remove(rule)
                    self.fired[kind] += 1
                    return dict(rule.params)
            return None

    @property
    def current_token_ttl(self) -> float | None:
        return self._token_ttl

    @property
    def announced_token_ttl(self) -> float | None:
        return self._token_announced

    def check_rate(self, key: str) -> tuple[bool, dict[str, str], int]:
        """Count one request for `key`: (allowed, inin-ratelimit-* headers, seconds to reset)."""
        with self._lock:
            if not self._per_minute:
                return True, {}, 0
            now = time.monotonic()
            start, count = self._windows.get(key, (now, 0))
            if now - start >= 60:
                start, count = now, 0
            count += 1
            self._windows[key] = (start, count)
            reset = max(1, math.ceil(60 - (now - start)))
            allowed = count <= self._per_minute
            if not allowed:
                self.fired["enforce_rate_limit"] += 1
            headers = {"inin-ratelimit-count": str(count), "inin-ratelimit-allowed": str(self._per_minute),
                       "inin-ratelimit-reset": str(reset)}
            return allowed, headers, reset

    def snapshot(self) -> dict:
        with self._lock:
            return {"rules": [{"fault": r.kind, "path": r.path, "remaining": r.remaining, **r.params}
                              for r in self._rules],
                    "enforce_rate_limit": self._per_minute, "token_ttl": self._token_ttl,
                    "limits": {k: v for k, v in asdict(self._limits).items() if v is not None},
                    "latency": self._latency and {"ms": self._latency[0], "jitter": self._latency[1]},
                    "fired": dict(self.fired)}
