"""API limits no document states: start from a guess, shrink on a 400 that names the limit, keep it for the run.

genesys-api.md section 9: the details query's page size and interval, job result page sizes and
caps, aggregate bucket/interval limits, the diagnostics summary's range and the predicates a filter
takes are stated nowhere. The tap starts from its old guesses (`STARTING_POINTS`) and, when Genesys
answers 400 with a message or `code` naming a limit (`LIMIT_PATTERNS`), the read function that sent
the request asks `AdaptiveLimits.shrink` for a smaller value, retries, and every later request of
the run uses it, so the same 400 is not paid twice. A 400 naming no limit, or one still answered at
the floor, is raised as before: one line, the API's message.

One `AdaptiveLimits` per run, owned by the tap and handed to every stream; it is thread-safe (read
functions of several windows may run at once) and logs each adaptation once per key.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import typing as t

from tap_genesys_outbound.errors import GenesysAPIError
from tap_genesys_outbound.windows import DAY, Window, split_at_midnights

if t.TYPE_CHECKING:
    import logging

HOUR = dt.timedelta(hours=1)

# What a limit 400 is about; each read function knows which of them it can shrink.
INTERVAL = "interval"          # interval length / date range of one request
BUCKETS = "buckets"            # number of intervals (buckets) of an aggregates request
PAGE_SIZE = "page size"        # pageSize of a page
RESULT_CAP = "result cap"      # how many results one query or job may page through
PREDICATES = "predicates"      # predicates (ids) in one filter
IDS = "ids"                    # ids in one request body (campaign performance)

#: (kind, pattern), first match wins; matched case-insensitively against the API's message and against
#: its `code` with dots and underscores read as spaces. Every pattern names a limit, so a 400 about
#: anything else (an invalid metric, dimension or cursor) matches none and still fails the run.
LIMIT_PATTERNS: tuple[tuple[str, str], ...] = (
    (RESULT_CAP, r"pagination (?:may|can|must) not exceed|too many results|results? (?:cap|limit)|"
                 r"exceed\w* (?:the )?(?:maximum (?:number of )?)?\d* ?results"),
    (PAGE_SIZE, r"page ?size"),
    (BUCKETS, r"buckets?\b|number of intervals|too many intervals"),
    (PREDICATES, r"predicates?\b|too many (?:filters|clauses)"),
    (IDS, r"\bids\b.*(?:per request|at most|exceed|maximum|too many)|(?:at most|maximum of|too many) \d* ?\w* ?ids\b"),
    (INTERVAL, r"interval\w* (?:exceed|too long|is too long|length)|interval.*(?:maximum|at most)|date ?range|"
               r"\brange\b.*(?:exceed|maximum|at most|too long)|(?:maximum|at most|exceed\w*) .*\d+ ?(?:day|hour)"),
)
_COMPILED = tuple((kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in LIMIT_PATTERNS)

#: Floors: below them the tap stops adapting and fails with the API's message.
MIN_PAGE_SIZE = 25
MIN_SPAN = HOUR
MIN_BATCH = 1


def limit_kind(exc: BaseException) -> str | None:
    """The kind of limit a 400 names (`LIMIT_PATTERNS`), or None (another status, or no limit named)."""
    if not isinstance(exc, GenesysAPIError) or exc.status != 400:
        return None
    texts = [exc.detail if exc.detail is not None else str(exc)]
    if exc.code:
        texts.append(re.sub(r"[._]", " ", exc.code))
    for kind, pattern in _COMPILED:
        if any(pattern.search(text) for text in texts):
            return kind
    return None


def halve_count(value: int, floor: int) -> int | None:
    """Half of a page size or batch, at least `floor`; None when `value` is already at the floor."""
    return None if value <= floor else max(value // 2, floor)


def halve_span(span: dt.timedelta) -> dt.timedelta | None:
    """Half of an interval: whole days down to one day, then 12, 6, 3, 1 hours; None below one hour."""
    if span >= 2 * DAY:
        return (span // 2 // DAY) * DAY
    if span < 2 * MIN_SPAN:
        return None
    return (span // 2 // HOUR) * HOUR


def split_window(window: Window, span: dt.timedelta) -> list[Window]:
    """`window` in pieces of at most `span`: whole days cut at UTC midnights, else hours within a day."""
    if span >= DAY:
        return split_at_midnights(window, span // DAY)
    pieces = []
    for day in split_at_midnights(window, 1):
        start = day.start
        while start < day.end:
            pieces.append(Window(start, min(day.end, start + span)))
            start = pieces[-1].end
    return pieces


def describe_span(span: dt.timedelta) -> str:
    if span >= DAY and span % DAY == dt.timedelta(0):
        return f"{span // DAY}-day"
    return f"{span // HOUR}-hour"


class AdaptiveLimits:
    """The run's current value per limit key (e.g. `details query page size`), shrunk on limit 400s."""

    def __init__(self) -> None:
        self._values: dict[str, t.Any] = {}
        self._lock = threading.Lock()

    def get(self, key: str, start: t.Any) -> t.Any:  # noqa: ANN401
        """The value in use for `key`: `start` (today's guess) until a 400 taught a smaller one."""
        with self._lock:
            return self._values.get(key, start)

    def shrink(self, key: str, refused: t.Any, smaller: t.Any, exc: GenesysAPIError,  # noqa: ANN401
               logger: logging.Logger, label: str, what: str) -> t.Any:  # noqa: ANN401
        """Learn that `refused` is over the limit: keep `smaller` (or a smaller value another thread learned).

        `smaller` None means `refused` was already the floor: `exc` is raised (the run fails as before).
        `what` completes the log line, e.g. "reading 3-day windows from now on".
        """
        if smaller is None:
            raise exc
        with self._lock:
            current = self._values.get(key)
            if current is not None and current <= smaller:
                return current  # another window learned as much or more already
            self._values[key] = smaller
            line = f'{label}: 400 "{exc.detail or exc}"; {what}'
        logger.warning("%s", line)
        return smaller

    def note(self, key: str, logger: logging.Logger, line: str) -> None:
        """Log an adaptation made per request (e.g. splitting one window over a result cap) once per key."""
        with self._lock:
            if key in self._values:
                return
            self._values[key] = True
        logger.warning("%s", line)


def batches(items: t.Sequence[str], size: int) -> list[list[str]]:
    """`items` in consecutive batches of at most `size`."""
    return [list(items[i: i + size]) for i in range(0, len(items), max(size, 1))]
