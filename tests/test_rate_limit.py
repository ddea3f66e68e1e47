"""The shared request budget paces requests under the per-minute limit (fake clock: no sleeping)."""

from __future__ import annotations

import pytest

from tap_genesys_outbound.rate_limit import RequestBudget

pytestmark = pytest.mark.unit


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_requests_in_any_minute_stay_within_budget_plus_burst() -> None:
    clock = FakeClock()
    budget = RequestBudget(per_minute=240, clock=clock, sleep=clock.sleep)
    sent_at = []
    for _ in range(1000):
        budget.acquire()
        sent_at.append(clock.now)
    window_counts = [sum(1 for s in sent_at if start <= s < start + 60) for start in sent_at]
    assert max(window_counts) <= 240 + budget.capacity
    # and it does not waste time: 1000 requests at 4/s take about 250 s
    assert 245 <= sent_at[-1] <= 250


def test_hold_off_delays_the_next_request_by_the_retry_after() -> None:
    clock = FakeClock()
    budget = RequestBudget(per_minute=60, burst=5, clock=clock, sleep=clock.sleep)
    budget.acquire()
    budget.hold_off(3.0)
    waited = budget.acquire()
    assert 2.9 <= waited <= 3.1


def test_one_budget_is_shared_by_all_callers() -> None:
    clock = FakeClock()
    budget = RequestBudget(per_minute=120, burst=1, clock=clock, sleep=clock.sleep)
    for _ in range(10):  # two "streams" alternating
        budget.acquire()
        budget.acquire()
    assert clock.now >= 9.5  # 20 requests at 2/s
