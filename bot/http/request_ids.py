"""Every HTTP request has an id on all its log lines and in its response: the caller's X-Request-Id when it
is a sane one (so a producer can follow its own ids through our logs), else a new one."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from core.log_context import request_scope

HEADER = "X-Request-Id"
# It goes into log lines verbatim: no spaces, quotes or control characters, and not long.
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,64}")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_ids(request: web.Request, handler: Handler) -> web.StreamResponse:
    given = request.headers.get(HEADER, "")
    request_id = given if _SANE.fullmatch(given) else uuid.uuid4().hex
    with request_scope(request_id):
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # raised past the problem middleware: a redirect, say
            exc.headers[HEADER] = request_id
            raise
    if not response.prepared:  # a streamed response has sent its headers already
        response.headers[HEADER] = request_id
    return response
