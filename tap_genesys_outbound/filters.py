"""Analytics filter pieces (genesys-api.md section 4.1): predicates and clauses the queries share.

A filter is `{type: and|or, predicates[], clauses[]}`; a predicate names a dimension with an
operator. Only what the tap sends is here, so every query's filter reads as one expression.
"""

from __future__ import annotations

import typing as t


def exists(dimension: str) -> dict:
    """The dimension is present (e.g. only conversations with an outbound campaign)."""
    return {"type": "dimension", "dimension": dimension, "operator": "exists"}


def equals(dimension: str, value: str) -> dict:
    return {"type": "dimension", "dimension": dimension, "operator": "matches", "value": value}


def any_of(dimension: str, values: t.Iterable[str]) -> dict:
    """An `or` clause: the dimension matches one of `values` (e.g. the `campaign_ids` setting)."""
    return {"type": "or", "predicates": [equals(dimension, value) for value in values]}


def all_of(*predicates: dict, clauses: t.Sequence[dict] = ()) -> dict:
    """An `and` filter of predicates, with optional nested clauses."""
    return {"type": "and", "predicates": list(predicates), **({"clauses": list(clauses)} if clauses else {})}
