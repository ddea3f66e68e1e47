"""Read several windows at once and hand them over strictly in their order.

Why: a real org answers in hundreds of milliseconds, so reading one request at a time leaves most
of the per-minute budget unused. `ordered_reads` starts the reads of up to `lanes` windows at
once, each in a thread of its own (a lane) that puts what it reads (pages, or a window's buckets)
on a small bounded queue. The stream's own thread takes the windows in their original order,
maps and emits their records and writes each window's STATE after its last record, so records,
windows and STATE come out exactly as in a serial run, and memory holds at most
`lanes × (queue_size + 1)` pieces whatever the volume.

With `lanes == 1` nothing runs in another thread: each window is read when its turn comes.

Windows read with an analytics job start only while a job slot is free (`JobSlots`), so at most
`max_concurrent_jobs` jobs are in flight; a lane is started only after every earlier one, and the
head window never waits for a later one, so the order cannot deadlock.
"""

from __future__ import annotations

import collections
import queue
import threading
import typing as t

if t.TYPE_CHECKING:
    import logging

T = t.TypeVar("T")
R = t.TypeVar("R")

_DONE = object()
#: Seconds between checks of the stop flag while a lane waits for room on its queue.
_PUT_POLL_SECONDS = 0.2


class _Failure:
    """An exception raised in a lane, carried to the stream's thread and raised there."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class JobSlots:
    """How many analytics jobs may be in flight; lowered for the run when Genesys says it allows fewer."""

    def __init__(self, limit: int, logger: logging.Logger) -> None:
        self.limit = limit
        self.taken = 0
        self._logger = logger
        self._lock = threading.Lock()

    def try_take(self) -> bool:
        with self._lock:
            if self.taken < self.limit:
                self.taken += 1
                return True
            return False

    def give_back(self) -> None:
        with self._lock:
            self.taken -= 1

    def lower(self, reason: str) -> int:
        """Allow one job fewer than are in flight now (at least one); log the change once. Returns the limit."""
        with self._lock:
            lowered = max(1, min(self.limit, self.taken) - 1)
            if lowered < self.limit:
                self.limit = lowered
                self._logger.warning("analytics jobs: %s; running at most %d job(s) at once from now on",
                                     reason, lowered)
            return self.limit


class _Lane(threading.Thread, t.Generic[T, R]):
    """Reads one window in its own thread into a bounded queue."""

    def __init__(self, item: T, fetch: t.Callable[[T], t.Iterable[R]], queue_size: int,
                 stop: threading.Event) -> None:
        super().__init__(daemon=True, name=f"genesys-lane-{item}")
        self.item = item
        self._fetch = fetch
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._stop_requested = stop
        self.exhausted = False

    def run(self) -> None:
        pieces = iter(())
        try:
            pieces = iter(self._fetch(self.item))
            for piece in pieces:
                if not self._put(piece):
                    return
            self._put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the stream's thread, which raises it
            self._put(_Failure(exc))
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()  # a stopped read runs its cleanup (an unread job is cancelled)

    def _put(self, value: object) -> bool:
        while not self._stop_requested.is_set():
            try:
                self._queue.put(value, timeout=_PUT_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def results(self) -> t.Iterator[R]:
        while True:
            value = self._queue.get()
            if value is _DONE:
                self.exhausted = True
                return
            if isinstance(value, _Failure):
                raise value.exc
            yield value


def ordered_reads(
    items: t.Iterable[T],
    fetch: t.Callable[[T], t.Iterable[R]],
    *,
    lanes: int,
    queue_size: int = 4,
    job_slots: JobSlots | None = None,
    uses_job: t.Callable[[T], bool] = lambda _item: False,
) -> t.Iterator[tuple[T, t.Iterator[R]]]:
    """`(item, what fetch(item) yields)` in the order of `items`, with up to `lanes` items read at once.

    The caller must read each item's iterator to its end before asking for the next item.
    """
    if lanes <= 1:
        for item in items:
            yield item, iter(fetch(item))
        return
    stop = threading.Event()
    pending: collections.deque[T] = collections.deque(items)
    active: collections.deque[_Lane[T, R]] = collections.deque()
    holding_slots: list[_Lane[T, R]] = []  # lanes whose job slot is still taken
    try:
        while pending or active:
            while pending and len(active) < lanes and (
                    job_slots is None or not uses_job(pending[0]) or job_slots.try_take()):
                lane = _Lane(pending.popleft(), fetch, queue_size, stop)
                if job_slots is not None and uses_job(lane.item):
                    holding_slots.append(lane)
                lane.start()
                active.append(lane)
            lane = active.popleft()
            yield lane.item, lane.results()
            if not lane.exhausted:
                raise RuntimeError(f"the reading of {lane.item} was left before its end")
            lane.join()
            if lane in holding_slots:
                holding_slots.remove(lane)
                job_slots.give_back()
    finally:
        stop.set()  # lanes still reading stop at their next page and clean up
        for _ in holding_slots:  # a stopped run (error, or the SDK's record limit) frees its job slots
            job_slots.give_back()
