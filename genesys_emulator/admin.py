"""The test-only admin endpoints under /_emulator/ (no auth, never faulted, not logged).

GET/POST/DELETE faults (POST takes the `Faults.set` keys, see faults.py), GET/DELETE requests (the
request log summary), GET summary (dataset counts), POST complete-active {at}, POST add-conversations
{n, start, end, campaignId}.
"""

from __future__ import annotations

from .protocol import ApiError, Response, parse_json


def handle(emu, method: str, path: str, body: bytes) -> Response:
    ds, faults = emu.dataset, emu.faults
    actions = {
        ("POST", "faults"): lambda p: (faults.set(**p), faults.snapshot())[1],
        ("DELETE", "faults"): lambda p: (faults.clear(), faults.snapshot())[1],
        ("GET", "faults"): lambda p: faults.snapshot(),
        ("GET", "requests"): lambda p: emu.request_summary(),
        ("DELETE", "requests"): lambda p: (emu.reset_log(), emu.request_summary())[1],
        ("GET", "summary"): lambda p: ds.summary(),
        ("POST", "complete-active"): lambda p: {"completed": ds.complete_active_calls(p.get("at"))},
        ("POST", "add-conversations"): lambda p: {"conversationIds": [
            d["conversationId"] for d in ds.add_conversations(int(p["n"]), p["start"], p["end"],
                                                              p.get("campaignId"))]},
    }
    action = actions.get((method, path.removeprefix("/_emulator/")))
    try:
        if action is None:
            raise ApiError(404, f"Unknown admin endpoint {method} {path}")
        return Response(200, action(parse_json(body) if body else {}))
    except (ValueError, TypeError, KeyError) as e:
        return ApiError(400, f"Bad admin request: {e}").response()
    except ApiError as e:
        return e.response()
