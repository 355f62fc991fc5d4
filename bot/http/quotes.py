"""POST /api/v1/quotes: a producer pushes prices; each quote is judged, and the answer says which were taken."""

from __future__ import annotations

import json
import logging

from aiohttp import web

from bot.http.deps import DEPS
from bot.http.problems import HttpProblem
from bot.http.signed_request import read_bounded_body, require_json, signed_request
from core.quote_body import parse_quotes_body
from core.quotes import Quote, QuoteVerdict

log = logging.getLogger(__name__)
# Room for a generously written quote (long symbol, ten decimals, spaces) plus the envelope.
BYTES_PER_QUOTE = 256
ENVELOPE_BYTES = 1024


def max_body_bytes(max_quotes: int) -> int:
    return ENVELOPE_BYTES + BYTES_PER_QUOTE * max_quotes


async def post_quotes(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    if deps.quotes is None:
        raise HttpProblem(404, "not-found", "Not found", "this desk takes no pushed quotes")
    require_json(request)
    body = await read_bounded_body(request, max_body_bytes(deps.max_quotes_per_request))
    producer_id = deps.authenticator.authenticate(signed_request(request, body))
    quotes = parse_quotes_body(body, max_quotes=deps.max_quotes_per_request)
    verdicts = await deps.quotes.submit(quotes)
    results = [_result(quote, verdict) for quote, verdict in zip(quotes, verdicts, strict=True)]
    accepted = sum(verdict.accepted for verdict in verdicts)
    log.info("event=quotes_pushed producer=%s accepted=%d refused=%d", producer_id, accepted, len(verdicts) - accepted)
    answer = {"accepted": accepted, "refused": len(verdicts) - accepted, "results": results}
    return web.Response(status=202, text=json.dumps(answer), content_type="application/json")


def _result(quote: Quote, verdict: QuoteVerdict) -> dict[str, str]:
    if verdict.accepted:
        return {"instrument": quote.instrument, "status": "accepted"}
    assert verdict.problem is not None
    return {"instrument": quote.instrument, "status": "refused", "problem": verdict.problem.value, "detail": verdict.detail}
