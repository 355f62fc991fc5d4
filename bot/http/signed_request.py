"""Reading a producer request safely: content type, bounded body, then the signature."""

from __future__ import annotations

from aiohttp import web

from bot.http.problems import HttpProblem
from core.producer_auth import SignedRequest

_CHUNK = 16384


def require_json(request: web.Request) -> None:
    if request.content_type != "application/json":
        shown = request.headers.get("Content-Type", "none")[:100]
        raise HttpProblem(415, "unsupported-media-type", "Unsupported media type", f"Content-Type must be application/json, got {shown}")


async def read_bounded_body(request: web.Request, limit: int) -> bytes:
    """The whole body, refusing one over `limit` bytes from Content-Length or while streaming."""
    length = request.content_length
    if length is not None and length > limit:
        raise _too_large(limit, f"Content-Length {length}")
    content = request.content
    if length is not None and content.is_eof():
        # All of it has arrived (the usual case for a small signal): the parser never buffers more than
        # Content-Length, so the buffer is the body.
        return content.read_nowait()
    chunks: list[bytes] = []
    size = 0
    while chunk := await content.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            # Stop reading: the client is told now, without us buffering the rest.
            raise _too_large(limit, "the body streamed so far")
        chunks.append(chunk)
    return b"".join(chunks)


def signed_request(request: web.Request, body: bytes) -> SignedRequest:
    return SignedRequest(
        method=request.method,
        endpoint=request.raw_path,  # path and query exactly as sent: that is what was signed
        producer_id=request.headers.get("X-Producer-Id"),
        timestamp=request.headers.get("X-Timestamp"),
        signature=request.headers.get("X-Signature"),
        body=body,
    )


def _too_large(limit: int, what: str) -> HttpProblem:
    return HttpProblem(413, "payload-too-large", "Payload too large", f"{what} exceeds the limit of {limit} bytes")
