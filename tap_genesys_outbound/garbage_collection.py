"""The cyclic garbage collector, tuned for the length of a sync.

Why: a sync decodes every API page into millions of short-lived dicts and lists (about 14 million
container allocations at 50,000 attempts). They die by reference counting, but each 700 of them
start a collection, and the older generations are walked again and again together with the
tens of megabytes of objects the SDK and its imports create once and keep (the catalog, schemas,
modules). bench/run.py measured that walking at a sixth of the attempts stream's CPU.

`fewer_collections` therefore, for the duration of a sync only:
* freezes what exists when the sync starts (`gc.freeze`: those objects live for the whole run, so
  walking them can free nothing), and
* starts a young-generation collection every `YOUNG_THRESHOLD` allocations instead of 700.
Reference cycles are still collected, just less often; memory stays bounded because pages are
bounded (`prefetch`). Both are undone when the sync ends, so a process that runs the tap twice
(the test suite) is left as it was.
"""

from __future__ import annotations

import contextlib
import gc
import typing as t

#: Allocations between young-generation collections during a sync (Python's default is 700).
YOUNG_THRESHOLD = 100_000
#: Young collections per middle-generation one, and middle per old (defaults 10 and 10).
MIDDLE_THRESHOLD = 20
OLD_THRESHOLD = 100


@contextlib.contextmanager
def fewer_collections() -> t.Iterator[None]:
    """Freeze the objects alive now and collect less often until the block ends."""
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
