"""Switchable API limits, all off by default, for the tap's "adapt to a 400 that names a limit" work.

genesys-api.md section 9 lists the limits no source states (page sizes, interval lengths, bucket
counts, result caps, predicates per filter). Each can be switched to a value tighter than the tap's
guess; a request beyond it then answers HTTP 400 with the Genesys error body
{message, code: "bad.request", status: 400, contextId, details: [], errors: []} and the message below
({n} is the limit). Python: `emu.faults.limits(details_max_days=1, ...)` (merges; `emu.limits` reads
them); HTTP: `POST /_emulator/faults {"limits": {"details_max_days": 1, ...}}`; `faults.clear()` (or
`DELETE /_emulator/faults`) switches them all off.

| field | what it limits | when off | message |
|---|---|---|---|
| details_max_days | details query interval length | 7 days, "Interval too long: ..." | Interval exceeds the maximum of {n} day(s) |
| details_max_page_size | details query paging.pageSize | 100, "Invalid paging.pageSize [..]: ..." | pageSize must be less than or equal to {n} |
| details_max_results | details query pageSize * pageNumber | config.max_results (100000), same message | Pagination may not exceed {n} results |
| job_max_page_size | results pageSize of details and aggregate jobs, and an aggregate job body's pageSize (a default above it is clamped) | 1000, "Invalid pageSize [..]: ..." | pageSize must be less than or equal to {n} |
| job_max_results | job results: a page holding results past the {n}-th (smaller jobs are not affected) | none | Pagination may not exceed {n} results |
| aggregate_max_buckets | conversation and flow aggregates, query and job submission: buckets of interval / granularity (no granularity: 1) | none | Number of intervals (buckets) exceeds the maximum of {n} |
| aggregate_max_days | the same, interval length (the per-granularity date ranges of aggregates.py still apply) | none | Interval exceeds the maximum of {n} day(s) |
| diagnostics_max_days | diagnostics summary end - start | none | The date range cannot exceed {n} days |
| filter_max_predicates | predicates in one filter object (each level counted on its own): details conversation/segment filters, aggregates filter | none | Filter predicates may not exceed {n} |
| performance_max_ids | ids in a performance/query body | 50, same message | At most {n} campaign ids per request, got {count} |
"""

from __future__ import annotations

from dataclasses import dataclass

from .protocol import ApiError

MESSAGES = {
    "details_max_days": "Interval exceeds the maximum of {n} day(s)",
    "details_max_page_size": "pageSize must be less than or equal to {n}",
    "details_max_results": "Pagination may not exceed {n} results",
    "job_max_page_size": "pageSize must be less than or equal to {n}",
    "job_max_results": "Pagination may not exceed {n} results",
    "aggregate_max_buckets": "Number of intervals (buckets) exceeds the maximum of {n}",
    "aggregate_max_days": "Interval exceeds the maximum of {n} day(s)",
    "diagnostics_max_days": "The date range cannot exceed {n} days",
    "filter_max_predicates": "Filter predicates may not exceed {n}",
    "performance_max_ids": "At most {n} campaign ids per request, got {count}",
}


@dataclass(frozen=True)
class Limits:
    """None = off (the emulator's usual behaviour)."""
    details_max_days: float | None = None
    details_max_page_size: int | None = None
    details_max_results: int | None = None
    job_max_page_size: int | None = None
    job_max_results: int | None = None
    aggregate_max_buckets: int | None = None
    aggregate_max_days: float | None = None
    diagnostics_max_days: float | None = None
    filter_max_predicates: int | None = None
    performance_max_ids: int | None = None

    def enforce(self, name: str, value: float, default: float | None = None) -> None:
        """400 with the limit's message when `value` exceeds the switched limit (else `default`, if any)."""
        n = getattr(self, name)
        n = default if n is None else n
        if n is not None and value > n:
            raise ApiError(400, MESSAGES[name].format(n=_plain(n), count=_plain(value)))


def _plain(x: float):
    return int(x) if float(x).is_integer() else x
