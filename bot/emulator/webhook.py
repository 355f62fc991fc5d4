"""Pushes queued updates to the bot's webhook, one at a time and in order, as Telegram does.

A delivery counts once the webhook answers 2xx; otherwise the same update is retried after a
growing delay, and the error shows in getWebhookInfo. A method the webhook returns in its
response body is executed, as Telegram executes it (the bot never sees its result).
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import ClientError, ClientResponse, ClientSession, ClientTimeout

from bot.emulator.errors import BotApiError
from bot.emulator.methods import find_method
from bot.emulator.params import read_response_params
from bot.emulator.state import EmulatorState, Outage, WebhookConfig

_log = logging.getLogger(__name__)
_TIMEOUT = ClientTimeout(total=30)
_MAX_BACKOFF_STEPS = 6
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookPusher:
    def __init__(self, state: EmulatorState, session: ClientSession) -> None:
        self._state = state
        self._session = session

    async def run(self) -> None:
        failures = 0
        while True:
            await self._state.changes.wait_for(self._ready_or_closing, None)
            webhook = self._state.webhook
            if self._state.closing or webhook is None:  # not ready, so closing
                return
            if await self._push_first(webhook):
                failures = 0
                continue
            failures += 1
            step = min(failures - 1, _MAX_BACKOFF_STEPS)
            await asyncio.sleep(self._state.webhook_retry_seconds * 2**step)

    def _ready_or_closing(self) -> bool:
        state = self._state
        ready = state.webhook is not None and bool(state.updates) and state.outage is Outage.NONE
        return ready or state.closing

    async def _push_first(self, webhook: WebhookConfig) -> bool:
        update = self._state.updates.peek(1)[0]
        headers = {SECRET_HEADER: webhook.secret_token} if webhook.secret_token else {}
        try:
            async with self._session.post(
                webhook.url, json=update, headers=headers, timeout=_TIMEOUT
            ) as response:
                if not 200 <= response.status < 300:
                    webhook.record_error(
                        f"Wrong response from the webhook: {response.status} {response.reason}"
                    )
                    return False
                self._state.updates.confirm(update["update_id"] + 1)
                await self._run_returned_method(response)
                return True
        except (ClientError, TimeoutError) as error:
            webhook.record_error(f"Connection error: {error or type(error).__name__}")
            return False

    async def _run_returned_method(self, response: ClientResponse) -> None:
        # The update is delivered already: a bad reply is logged, never delivered again.
        try:
            params = await read_response_params(response)
            name = params.text("method")
            if name is not None:
                await find_method(name)(self._state, params)
        except BotApiError as error:
            _log.warning("event=webhook_reply_failed description=%r", error.description)
        except (ClientError, TimeoutError, ValueError) as error:
            _log.warning("event=webhook_reply_unreadable error=%r", str(error))
