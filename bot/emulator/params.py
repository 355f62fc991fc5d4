"""Method parameters as the Bot API accepts them: query string, JSON, urlencoded or multipart.

aiogram's AiohttpSession posts a form (urlencoded, or multipart when a file is attached) in
which every non-string value is JSON-encoded: ``"42"``, ``"true"``, ``reply_markup='{...}'``.
A JSON body carries the same values already typed. The typed getters accept both forms.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, ClientResponse, MultipartReader, web

from bot.emulator.errors import bad_request

_ATTACH = "attach://"


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


class Params:
    def __init__(self, fields: Mapping[str, Any], files: Mapping[str, Upload]) -> None:
        self._fields = dict(fields)
        self._files = dict(files)

    def text(self, name: str) -> str | None:
        value = self._fields.get(name)
        if value is None or value == "":
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def required_text(self, name: str, missing: str) -> str:
        """The field as a string; ``missing`` is Telegram's complaint when it is absent."""
        value = self.text(name)
        if value is None:
            raise bad_request(missing)
        return value

    def integer(self, name: str) -> int | None:
        value = self.text(name)
        return None if value is None else _to_int(name, value)

    def required_integer(self, name: str, missing: str) -> int:
        return _to_int(name, self.required_text(name, missing))

    def flag(self, name: str) -> bool:
        value = self._fields.get(name)
        return value is True or (isinstance(value, str) and value.lower() in {"true", "1"})

    def json(self, name: str) -> Any:
        value = self._fields.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None

    def input_file(self, name: str, missing: str) -> Upload | str:
        """An uploaded file (its own part, or ``attach://<part>``) or a file_id string."""
        if name in self._files:
            return self._files[name]
        value = self.required_text(name, missing)
        if value.startswith(_ATTACH):
            upload = self._files.get(value.removeprefix(_ATTACH))
            if upload is None:
                raise bad_request(missing)
            return upload
        return value


def _to_int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise bad_request(f"invalid {name} specified") from None


async def read_request_params(request: web.Request) -> Params:
    fields: dict[str, Any] = dict(request.query)
    files: dict[str, Upload] = {}
    if request.content_type == "application/json":
        fields.update(_json_object(await request.read()))
    elif request.content_type == "multipart/form-data":
        await _read_multipart(await request.multipart(), fields, files)
    elif request.can_read_body:
        fields.update(await request.post())
    return Params(fields, files)


async def read_response_params(response: ClientResponse) -> Params:
    """Parameters of a method a webhook returns in its response body (may be empty)."""
    fields: dict[str, Any] = {}
    files: dict[str, Upload] = {}
    if response.content_type == "application/json":
        fields.update(_json_object(await response.read()))
    elif response.content_type == "multipart/form-data":
        await _read_multipart(MultipartReader(response.headers, response.content), fields, files)
    return Params(fields, files)


def _json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except ValueError:
        raise bad_request("can't parse JSON object") from None
    if not isinstance(value, dict):
        raise bad_request("JSON object expected")
    return value


async def _read_multipart(
    reader: MultipartReader, fields: dict[str, Any], files: dict[str, Upload]
) -> None:
    async for part in reader:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is not None:
            files[part.name] = Upload(part.filename, await part.read(decode=True))
        else:
            fields[part.name] = await part.text()
