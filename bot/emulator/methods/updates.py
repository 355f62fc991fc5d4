"""Receiving updates: long polling and the webhook settings."""

from __future__ import annotations

import re

from bot.emulator.errors import bad_request, conflict
from bot.emulator.model import JsonObject
from bot.emulator.params import Params
from bot.emulator.state import EmulatorState, WebhookConfig

_WEBHOOK_ACTIVE = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
    "webhook first"
)
_TERMINATED = (
    "terminated by other getUpdates request; make sure that only one bot instance is running"
)
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


async def get_updates(state: EmulatorState, params: Params) -> list[JsonObject]:
    if state.webhook is not None:
        raise conflict(_WEBHOOK_ACTIVE)
    _apply_allowed_updates(state, params)
    state.updates.confirm(params.integer("offset") or 0)
    limit = min(max(params.integer("limit") or 100, 1), 100)
    timeout = max(params.integer("timeout") or 0, 0)

    state.poll_generation += 1
    generation = state.poll_generation
    state.changes.notify()  # an older poll still waiting must now end with 409
    await state.changes.wait_for(
        lambda: bool(state.updates)
        or state.poll_generation != generation
        or state.webhook is not None
        or state.closing,
        timeout,
    )
    if state.poll_generation != generation:
        raise conflict(_TERMINATED)
    if state.webhook is not None:
        raise conflict(_WEBHOOK_ACTIVE)
    return state.updates.peek(limit)


async def set_webhook(state: EmulatorState, params: Params) -> bool:
    url = params.text("url")
    if url is None:
        return await delete_webhook(state, params)
    if not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret_token = params.text("secret_token")
    if secret_token is not None and not _SECRET_TOKEN.fullmatch(secret_token):
        raise bad_request("secret token contains unallowed characters")
    if params.flag("drop_pending_updates"):
        state.updates.clear()
    _apply_allowed_updates(state, params)
    state.webhook = WebhookConfig(
        url=url,
        secret_token=secret_token,
        max_connections=params.integer("max_connections") or 40,
    )
    state.changes.notify()
    return True


async def delete_webhook(state: EmulatorState, params: Params) -> bool:
    if params.flag("drop_pending_updates"):
        state.updates.clear()
    state.webhook = None
    state.changes.notify()
    return True


async def get_webhook_info(state: EmulatorState, params: Params) -> JsonObject:
    webhook = state.webhook
    info: JsonObject = {
        "url": webhook.url if webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(state.updates),
    }
    if webhook is not None:
        info["max_connections"] = webhook.max_connections
        if webhook.last_error_date is not None:
            info["last_error_date"] = webhook.last_error_date
            info["last_error_message"] = webhook.last_error_message
    allowed = state.updates.allowed_updates
    if allowed is not None:
        info["allowed_updates"] = allowed
    return info


def _apply_allowed_updates(state: EmulatorState, params: Params) -> None:
    kinds = params.json("allowed_updates")
    if kinds is None:
        return
    if not isinstance(kinds, list) or not all(isinstance(kind, str) for kind in kinds):
        raise bad_request("can't parse allowed_updates JSON object")
    state.updates.set_allowed(kinds)


METHODS = {
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
}
