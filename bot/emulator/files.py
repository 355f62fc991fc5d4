"""Uploaded photos: realistic PhotoSize lists, re-use by file_id, and bytes for downloads.

Telegram stores one upload as several sizes, each with its own ``file_id``; any of them can be
sent again. The emulator does not resample: every size serves the original bytes.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass

from bot.emulator.errors import bad_request
from bot.emulator.model import JsonObject

# Telegram's thumbnail boxes (s, m, x) and its default photo box (y).
_BOXES = (90, 320, 800, 1280)
_JPEG_FRAME_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes

    def to_api(self) -> JsonObject:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


class FileStore:
    def __init__(self) -> None:
        self._uploads = 0
        self._by_file_id: dict[str, tuple[StoredFile, list[JsonObject]]] = {}
        self._by_path: dict[str, StoredFile] = {}

    @property
    def uploads(self) -> int:
        """Photos stored from uploaded bytes (a send by file_id stores nothing), for tests of re-use."""
        return self._uploads

    def add_photo(self, data: bytes, filename: str) -> list[JsonObject]:
        width, height = image_size(data)
        self._uploads += 1
        number = self._uploads
        extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "jpg"
        sizes: list[JsonObject] = []
        for index, (w, h) in enumerate(_size_ladder(width, height)):
            stored = StoredFile(
                file_id=_identifier(b"AgACAgIAAxkDAAI", number, index, 48),
                file_unique_id=_identifier(b"AQAD", number, index, 12),
                file_path=f"photos/file_{number}_{index}.{extension}",
                data=data,
            )
            share = (w * h) / (width * height)
            size = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": max(1, round(len(data) * share)),
                "width": w,
                "height": h,
            }
            sizes.append(size)
            self._by_path[stored.file_path] = stored
            self._by_file_id[stored.file_id] = (stored, sizes)
        return sizes

    def photo(self, file_id: str) -> list[JsonObject]:
        """The sizes of an earlier upload, for sending it again by any of its file_ids."""
        if file_id not in self._by_file_id:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return self._by_file_id[file_id][1]

    def file(self, file_id: str) -> StoredFile:
        if file_id not in self._by_file_id:
            raise bad_request("invalid file_id")
        return self._by_file_id[file_id][0]

    def by_path(self, file_path: str) -> StoredFile | None:
        return self._by_path.get(file_path)


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG or JPEG; Telegram refuses what it cannot decode."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data.startswith(b"\xff\xd8"):
        offset = 2
        while offset + 9 <= len(data) and data[offset] == 0xFF:
            marker = data[offset + 1]
            (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
            if marker in _JPEG_FRAME_MARKERS:
                height, width = struct.unpack(">HH", data[offset + 5 : offset + 9])
                return width, height
            offset += 2 + length
    raise bad_request("IMAGE_PROCESS_FAILED")


def _size_ladder(width: int, height: int) -> list[tuple[int, int]]:
    """Thumbnails for every box smaller than the image, then the photo itself (at most 1280)."""
    longest = max(width, height)
    ladder = []
    for box in _BOXES:
        scale = min(1.0, box / longest)
        ladder.append((max(1, round(width * scale)), max(1, round(height * scale))))
        if box >= longest:
            break
    return ladder


def _identifier(prefix: bytes, number: int, index: int, length: int) -> str:
    """A file id that looks like Telegram's (URL-safe base64) and is stable between runs."""
    raw = prefix + struct.pack(">IB", number, index)
    encoded = base64.urlsafe_b64encode(raw * (length // len(raw) + 1)).decode()
    return encoded[:length]
