"""The analytics filter shape `{type: and|or, predicates[], clauses[]}`, validated and evaluated once
for the details query (conversation and segment filters) and both aggregates queries."""

from __future__ import annotations

from .limits import Limits
from .protocol import ApiError

OPERATORS = ("matches", "exists", "notExists")


def check_filter(f, allowed: set, where: str, limits: Limits, depth: int = 0) -> None:
    """400 for a filter the real API rejects: bad type, nesting deeper than two levels, an empty filter,
    metric/property predicates, dimensions outside `allowed` (dispositionName is documented as not
    filterable), unknown operators, `matches` without a value, or more predicates than a switched limit."""
    if not isinstance(f, dict) or f.get("type") not in ("and", "or"):
        raise ApiError(400, f"{where}: every filter needs type 'and' or 'or'")
    if depth > 2:
        raise ApiError(400, f"{where}: filters nest at most two levels")
    predicates, clauses = f.get("predicates") or [], f.get("clauses") or []
    if not predicates and not clauses:
        raise ApiError(400, f"{where}: a filter needs predicates or clauses")
    limits.enforce("filter_max_predicates", len(predicates))
    for p in predicates:
        dim, op = p.get("dimension"), p.get("operator", "matches")
        if p.get("type", "dimension") != "dimension":
            raise ApiError(400, f"{where}: predicate type '{p.get('type')}' is not supported by this emulator")
        if dim == "dispositionName":
            raise ApiError(400, f"{where}: dimension 'dispositionName' is not filterable")
        if dim not in allowed:
            raise ApiError(400, f"{where}: invalid dimension '{dim}'")
        if op not in OPERATORS:
            raise ApiError(400, f"{where}: invalid operator '{op}'")
        if op == "matches" and p.get("value") is None:
            raise ApiError(400, f"{where}: operator 'matches' needs a value for '{dim}'")
    for clause in clauses:
        check_filter(clause, allowed, where, limits, depth + 1)


def predicate_matches(p: dict, lookup) -> bool:
    value = lookup(p["dimension"])
    values = [] if value is None else [str(v) for v in (value if isinstance(value, list) else [value])]
    op = p.get("operator", "matches")
    if op == "exists":
        return bool(values)
    if op == "notExists":
        return not values
    return str(p.get("value")) in values


def filter_matches(f: dict | None, lookup) -> bool:
    """`lookup(dimension)` gives the value(s) to test; no filter matches everything."""
    if not f:
        return True
    results = [predicate_matches(p, lookup) for p in f.get("predicates") or []]
    results += [filter_matches(c, lookup) for c in f.get("clauses") or []]
    return all(results) if f.get("type") == "and" else any(results)
