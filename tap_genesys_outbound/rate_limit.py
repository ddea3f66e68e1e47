"""Client-side request budget shared by every stream of a run.

Genesys Cloud allows about 300 requests per minute per OAuth token and all
streams share one token, so one token bucket paces all of them. The bucket
refills at `per_minute / 60` tokens a second and holds a small burst, so in
any 60-second window at most `per_minute + burst` requests leave: the default
budget of 240 stays under the server's 300 and 429s stay rare instead of being
the pacing mechanism.
"""

from __future__ import annotations

import threading
import time
import typing as t


class RequestBudget:
    """A thread-safe token bucket; `acquire()` blocks until a request may be sent."""

    def __init__(
        self,
        per_minute: int,
        burst: int | None = None,
        clock: t.Callable[[], float] = time.monotonic,
        sleep: t.Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_minute = per_minute
        self.rate = per_minute / 60.0
        self.capacity = float(burst if burst is not None else max(1, per_minute // 30))
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def acquire(self) -> float:
        """Take one token, sleeping as needed; return the seconds slept."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._refill(now)
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return waited
                delay = (1.0 - self._tokens) / self.rate
            self._sleep(delay)
            waited += delay

    def hold_off(self, seconds: float) -> None:
        """After a 429, make every stream wait `seconds` before its next request."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens = min(self._tokens, 1.0 - seconds * self.rate)
