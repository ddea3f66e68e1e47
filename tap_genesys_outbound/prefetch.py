"""Read several windows at once and hand them over strictly in their order.

Why: a real org answers in hundreds of milliseconds, so reading one request at a time leaves most
of the per-minute budget unused. `ordered_reads` starts the reads of up to `lanes` windows at
once, each in a thread of its own (a lane) that puts what it reads (pages, or a window's buckets)
on its backlog. The stream's own thread takes the windows in their original order,
maps and emits their records and writes each window's STATE after its last record, so records,
windows and STATE come out exactly as in a serial run, and memory holds at most
`lanes × (queue_size + 1)` pieces whatever the volume: a backlog keeps `queue_size` pieces in
memory and either makes its lane wait or, given a codec, writes the rest to a temporary file
(`spill.py`), so a job's cursor keeps draining while earlier windows are emitted.

With `lanes == 1` nothing runs in another thread: each window is read when its turn comes.

Analytics jobs: a lane reading a window with a job first takes a job slot (`JobSlots`), so at most
`max_concurrent_jobs` jobs are in flight, and gives it back as soon as the job's results are read
in full (they may still wait in the backlog), so the next job is submitted and polled while earlier
windows are emitted. Slots are handed out in window order, so a window never waits for a slot held
by a later one and the order cannot deadlock.
"""

from __future__ import annotations

import collections
import logging
import threading
import typing as t

from tap_genesys_outbound.spill import PieceCodec, SpillFile

T = t.TypeVar("T")
R = t.TypeVar("R")

_DONE = object()
logger = logging.getLogger(__name__)
#: Seconds between checks of the stop flag while a lane waits for room on its queue or for a job slot.
_WAIT_POLL_SECONDS = 0.2


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
        self._free = threading.Condition()

    def take(self, stop: threading.Event) -> bool:
        """Wait for a free slot; False when `stop` is set first."""
        with self._free:
            while self.taken >= self.limit:
                if stop.is_set():
                    return False
                self._free.wait(_WAIT_POLL_SECONDS)
            self.taken += 1
            return True

    def give_back(self) -> None:
        with self._free:
            self.taken -= 1
            self._free.notify_all()

    def lower(self, reason: str) -> int:
        """Allow one job fewer than are in flight now (at least one); log the change once. Returns the limit."""
        with self._free:
            lowered = max(1, min(self.limit, self.taken) - 1)
            if lowered < self.limit:
                self.limit = lowered
                self._logger.warning("analytics jobs: %s; running at most %d job(s) at once from now on",
                                     reason, lowered)
            return self.limit


class _Turns:
    """Hands job slots to the lanes of one `ordered_reads` in window order."""

    def __init__(self, slots: JobSlots, stop: threading.Event) -> None:
        self._slots, self._stop = slots, stop
        self._next = 0
        self._turn = threading.Condition()

    def take(self, ticket: int) -> bool:
        with self._turn:
            while self._next != ticket:
                if self._stop.is_set():
                    return False
                self._turn.wait(_WAIT_POLL_SECONDS)
        taken = self._slots.take(self._stop)
        with self._turn:  # the next window may queue for a slot now, even if this one was stopped
            self._next += 1
            self._turn.notify_all()
        return taken


class _OnDisk:
    """Stands, in a backlog's order, for the next piece of its spill file: the piece's head, its body on disk."""

    __slots__ = ("body", "head")

    def __init__(self, head: object) -> None:
        self.head = head
        self.body = b""


class _Backlog:
    """A lane's pieces, oldest first: up to `in_memory` in memory, the rest in a spill file when a codec is given.

    Pieces in memory are always older than those on disk: once one goes to disk, the next ones
    follow it there until the disk has been read empty. The end and failure markers take their
    place in the same order but are never encoded.
    """

    def __init__(self, in_memory: int, codec: PieceCodec | None, note: t.Callable[[str], None]) -> None:
        self._in_memory = in_memory
        self._codec = codec
        self._note = note
        self._memory: collections.deque = collections.deque()
        self._disk = SpillFile() if codec is not None else None
        self._disk_writable = self._disk is not None
        self._overflow: collections.deque = collections.deque()  # an _OnDisk head or a marker, in order
        self._changed = threading.Condition()

    def put(self, value: object, stop: threading.Event) -> bool:
        """Add `value`; waits only while memory (and the spill file) are full. False when `stop` is set first."""
        piece = not isinstance(value, _Failure) and value is not _DONE
        head, body = self._codec.dump(value) if piece and self._codec is not None else (None, b"")
        with self._changed:
            while not stop.is_set():
                if not self._overflow and len(self._memory) < self._in_memory:
                    self._memory.append(value)
                elif self._disk is not None and not piece:
                    self._overflow.append(value)
                elif self._disk_writable and self._disk.has_room(len(body)):
                    try:
                        self._disk.append(body)
                    except OSError as exc:  # no room or no temporary directory: wait for memory, as without a disk
                        self._disk_writable = False
                        self._note(f"read-ahead pages cannot wait in a temporary file ({exc}); reading ahead "
                                   f"{self._in_memory} pages a window in memory only")
                        continue
                    self._overflow.append(_OnDisk(head))
                else:
                    self._changed.wait(_WAIT_POLL_SECONDS)
                    continue
                self._changed.notify_all()
                return True
        return False

    def get(self) -> object:
        """The oldest value, waiting for one."""
        with self._changed:
            while not self._memory and not self._overflow:
                self._changed.wait()
            if self._memory:
                value = self._memory.popleft()
            else:
                value = self._overflow.popleft()
                if isinstance(value, _OnDisk):
                    value.body = self._disk.pop()
            self._changed.notify_all()
        return self._codec.load(value.head, value.body) if isinstance(value, _OnDisk) else value

    def close(self) -> None:
        with self._changed:
            if self._disk is not None:
                self._disk.close()


class _Lane(threading.Thread, t.Generic[T, R]):
    """Reads one window in its own thread into its backlog."""

    def __init__(self, item: T, fetch: t.Callable[[T], t.Iterable[R]], backlog: _Backlog,
                 stop: threading.Event, job_turn: t.Callable[[], bool] | None, slots: JobSlots | None) -> None:
        super().__init__(daemon=True, name=f"genesys-lane-{item}")
        self.item = item
        self._fetch = fetch
        self._backlog = backlog
        self._stop_requested = stop
        self._job_turn, self._slots = job_turn, slots
        self.exhausted = False

    def run(self) -> None:
        pieces = iter(())
        holding_slot = False
        try:
            if self._job_turn is not None:
                holding_slot = self._job_turn()
                if not holding_slot:
                    return  # stopped while waiting for its turn
            pieces = iter(self._fetch(self.item))
            for piece in pieces:
                if not self._backlog.put(piece, self._stop_requested):
                    return
            if holding_slot:  # read in full: the next job may start while these pages wait their turn
                holding_slot = False
                self._slots.give_back()
            self._backlog.put(_DONE, self._stop_requested)
        except BaseException as exc:  # noqa: BLE001 - handed to the stream's thread, which raises it
            self._backlog.put(_Failure(exc), self._stop_requested)
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:
                close()  # a stopped read runs its cleanup (an unread job is cancelled)
            if holding_slot:
                self._slots.give_back()

    def results(self) -> t.Iterator[R]:
        while True:
            value = self._backlog.get()
            if value is _DONE:
                self.exhausted = True
                return
            if isinstance(value, _Failure):
                raise value.exc
            yield value

    def close(self) -> None:
        """Drop what is still spilled (the file goes with it)."""
        self._backlog.close()


def ordered_reads(
    items: t.Iterable[T],
    fetch: t.Callable[[T], t.Iterable[R]],
    *,
    lanes: int,
    queue_size: int = 4,
    job_slots: JobSlots | None = None,
    uses_job: t.Callable[[T], bool] = lambda _item: False,
    spill: PieceCodec | None = None,
    note: t.Callable[[str], None] = logger.warning,
) -> t.Iterator[tuple[T, t.Iterator[R]]]:
    """`(item, what fetch(item) yields)` in the order of `items`, with up to `lanes` items read at once.

    Each lane keeps up to `queue_size` pieces in memory; with a `spill` codec, the rest wait in a
    temporary file (`spill.py`) so its reading never stops for the emitter, else the lane waits.
    `note` logs that no temporary file could be written (each lane that meets it calls it).
    The caller must read each item's iterator to its end before asking for the next item.
    """
    if lanes <= 1:
        for item in items:
            yield item, iter(fetch(item))
        return
    stop = threading.Event()
    turns = _Turns(job_slots, stop) if job_slots is not None else None
    tickets = 0
    pending: collections.deque[T] = collections.deque(items)
    active: collections.deque[_Lane[T, R]] = collections.deque()
    lane: _Lane[T, R] | None = None
    try:
        while pending or active:
            while pending and len(active) < lanes:
                item = pending.popleft()
                job_turn = None
                if turns is not None and uses_job(item):
                    job_turn = (lambda ticket: lambda: turns.take(ticket))(tickets)
                    tickets += 1
                lane = _Lane(item, fetch, _Backlog(queue_size, spill, note), stop, job_turn, job_slots)
                lane.start()
                active.append(lane)
            lane = active.popleft()
            yield lane.item, lane.results()
            if not lane.exhausted:
                raise RuntimeError(f"the reading of {lane.item} was left before its end")
            lane.join()
            lane.close()
    finally:
        stop.set()  # lanes still reading or waiting stop at their next page or check, and give their slots back
        for unfinished in (lane, *active) if lane is not None else active:
            unfinished.close()
