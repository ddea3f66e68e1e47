"""Paginators for the three paging styles of the Genesys Cloud API.

* Entity listings (`/outbound/campaigns`, `/routing/wrapupcodes`, ...) return
  `pageNumber`/`pageCount`/`nextUri`: continue until `pageNumber >= pageCount`
  (or, without a `pageCount`, until `nextUri` is gone), even across an empty
  page, which the SDK would otherwise take for the end (meltano/sdk#2980).
* The conversation details query has no `pageCount`: the end is the first page
  without conversations.
* Analytics job results carry an opaque `cursor` until the last page.

The paginators read only the envelope (`page_envelope`: counts, `totalHits`, `cursor`,
`pageCount`) with a typed msgspec decoder that leaves the records as raw JSON, so a page
waiting in a queue holds its bytes, not its decoded records; `decode_json` decodes the whole
body once, where the records are used.
"""

from __future__ import annotations

import typing as t

import msgspec
import requests
from singer_sdk.pagination import BaseAPIPaginator, PageNumberPaginator

from tap_genesys_outbound.errors import GenesysAPIError

_decode_json = msgspec.json.Decoder().decode  # several times faster than requests' json on large pages


def decode_json(response: requests.Response) -> t.Any:  # noqa: ANN401
    """The response body (an object, or a bare array for the progress endpoint), parsed once per response."""
    cached = getattr(response, "_genesys_body", None)
    if cached is None:
        try:
            cached = _decode_json(response.content) if response.content else {}
        except (ValueError, msgspec.DecodeError):
            path = requests.utils.urlparse(response.url).path
            raise GenesysAPIError(
                f"{response.request.method if response.request else 'GET'} {path} answered {response.status_code} "
                f"with a body that is not JSON ({response.headers.get('Content-Type', 'no content type')})"
            ) from None
        if not isinstance(cached, (dict, list)):
            raise GenesysAPIError(f"{requests.utils.urlparse(response.url).path} answered JSON that is neither "
                                  "an object nor an array")
        response._genesys_body = cached  # type: ignore[attr-defined]  # noqa: SLF001
    return cached


class PageEnvelope(msgspec.Struct):
    """What paging needs of a page; the records stay undecoded (`msgspec.Raw`)."""

    entities: list[msgspec.Raw] | None = None
    conversations: list[msgspec.Raw] | None = None
    results: list[msgspec.Raw] | None = None
    totalHits: int | None = None  # the API's field names, spelled as it spells them
    cursor: str | None = None
    pageCount: int | None = None
    pageNumber: int | None = None
    nextUri: str | None = None

    def count(self, records_key: str) -> int:
        return len(getattr(self, records_key, None) or ())


_decode_envelope = msgspec.json.Decoder(PageEnvelope).decode
#: Paging fields a mistyped envelope still keeps, each only with its own JSON type (a string `pageCount` is dropped).
_ENVELOPE_TYPES = {"totalHits": int, "pageCount": int, "pageNumber": int, "cursor": str, "nextUri": str}


def page_envelope(response: requests.Response) -> PageEnvelope:
    """The page's paging fields, decoded once per response without decoding its records."""
    cached = getattr(response, "_genesys_envelope", None)
    if cached is None:
        try:
            cached = _decode_envelope(response.content or b"{}")
        except (ValueError, msgspec.DecodeError):  # not JSON, or an envelope of other types: say it clearly
            body = response_json(response)
            cached = PageEnvelope(**{k: v for k, v in body.items() if _ENVELOPE_TYPES.get(k) is type(v)})
            for key in ("entities", "conversations", "results"):
                if isinstance(body.get(key), list):
                    setattr(cached, key, [msgspec.Raw(b"null")] * len(body[key]))
        response._genesys_envelope = cached  # type: ignore[attr-defined]  # noqa: SLF001
    return cached


def response_json(response: requests.Response) -> dict:
    """The response body as an object: what every paged envelope is."""
    body = decode_json(response)
    if not isinstance(body, dict):
        raise GenesysAPIError(f"{requests.utils.urlparse(response.url).path} answered JSON that is not an object")
    return body


class EntityListingPaginator(PageNumberPaginator):
    """1-based `pageNumber` paging of Genesys `*EntityListing` responses."""

    def __init__(self) -> None:
        super().__init__(start_value=1)

    def has_more(self, response: requests.Response) -> bool:
        envelope = page_envelope(response)
        if envelope.pageCount is not None:
            return (envelope.pageNumber or self.current_value) < envelope.pageCount
        return bool(envelope.nextUri)

    def continue_if_empty(self, response: requests.Response) -> bool:
        """An empty page mid-listing is not the end while the envelope says there is more."""
        return self.has_more(response)


class QueryPageNumberPaginator(PageNumberPaginator):
    """`paging.pageNumber` of POST analytics queries.

    The documented end is the first page without records. A short page is
    taken as the end too, but only when the records read so far also reach
    `totalHits`: two independent signals, which saves one empty request per
    window without trusting the approximate `totalHits` alone.
    """

    def __init__(self, page_size: int, records_key: str = "conversations") -> None:
        super().__init__(start_value=1)
        self.page_size = page_size
        self.records_key = records_key

    def has_more(self, response: requests.Response) -> bool:
        envelope = page_envelope(response)
        records = envelope.count(self.records_key)
        if not records:
            return False
        read_so_far = (self.current_value - 1) * self.page_size + records
        is_short_page = records < self.page_size
        return not (is_short_page and envelope.totalHits is not None and read_so_far >= envelope.totalHits)


class CursorPaginator(BaseAPIPaginator[str | None]):
    """Opaque `cursor` of analytics job results; an empty page with a cursor is not the end."""

    def __init__(self) -> None:
        super().__init__(start_value=None)

    def get_next(self, response: requests.Response) -> str | None:
        return page_envelope(response).cursor or None

    def continue_if_empty(self, response: requests.Response) -> bool:
        return self.get_next(response) is not None
