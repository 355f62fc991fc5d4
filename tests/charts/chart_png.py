"""Reading PNG chunks, to check what a rendered chart carries besides pixels."""

from __future__ import annotations

import struct
import zlib

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Everything a plain image needs (PLTE only for palette images). Any other chunk (tEXt, iTXt, zTXt,
# tIME, eXIf, pHYs, gAMA, ...) is metadata and not allowed in a chart.
ALLOWED_CHUNKS = {"IHDR", "PLTE", "IDAT", "IEND"}
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # by IHDR colour type


def png_chunks(data: bytes) -> list[tuple[str, bytes]]:
    """(type, payload) of every chunk, checking the signature, lengths and CRCs."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG"
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        payload = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + payload) == crc, f"bad CRC in {kind!r}"
        chunks.append((kind.decode("ascii"), payload))
        offset += 12 + length
    return chunks


def png_size(data: bytes) -> tuple[int, int]:
    kind, header = png_chunks(data)[0]
    assert kind == "IHDR"
    width, height = struct.unpack(">II", header[:8])
    return width, height


def decoded_bytes_match_size(data: bytes) -> bool:
    """The image data inflates to exactly one filter byte plus one row of pixels per line (8-bit)."""
    chunks = png_chunks(data)
    width, height, depth, colour = struct.unpack(">IIBB", chunks[0][1][:10])
    raw = zlib.decompress(b"".join(payload for kind, payload in chunks if kind == "IDAT"))
    return depth == 8 and len(raw) == height * (1 + width * _CHANNELS[colour])
