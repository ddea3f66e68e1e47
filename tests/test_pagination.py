"""Paging fields of a mistyped envelope: kept only with their own JSON type, so paging falls back, never crashes."""

from __future__ import annotations

import json

import pytest
import requests

from tap_genesys_outbound.pagination import EntityListingPaginator, page_envelope

pytestmark = pytest.mark.unit


def _page(body: dict) -> requests.Response:
    response = requests.Response()
    response._content = json.dumps(body).encode()
    response.status_code, response.url = 200, "https://api.example.test/api/v2/users"
    return response


def test_a_string_page_count_is_dropped_and_paging_follows_next_uri() -> None:
    page = _page({"entities": [{"id": "a"}], "pageCount": "3", "pageNumber": 1,
                  "nextUri": "/api/v2/users?pageNumber=2"})
    envelope = page_envelope(page)
    assert envelope.pageCount is None and envelope.pageNumber == 1 and envelope.count("entities") == 1
    assert EntityListingPaginator().has_more(page)


def test_a_boolean_total_hits_is_not_taken_for_a_number() -> None:
    envelope = page_envelope(_page({"conversations": [{}], "totalHits": True, "cursor": 5}))
    assert envelope.totalHits is None and envelope.cursor is None and envelope.count("conversations") == 1
