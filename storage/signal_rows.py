"""Mapping between signal rows and domain objects."""

from __future__ import annotations

from typing import Any

from core.signals import NewSignal, Side, Signal, SignalStatus


def row_values(new: NewSignal) -> dict[str, Any]:
    d = new.draft
    return {
        "id": new.id,
        "producer_id": new.producer_id,
        "instrument": d.instrument,
        "side": d.side.value,
        "price": d.price,
        "stop_loss": d.stop_loss,
        "take_profit": d.take_profit,
        "time": d.time,
        "version": d.version,
        "external_id": d.external_id,
        "payload": d.payload,
        "status": SignalStatus.NEW.value,
        "idempotency_key": new.idempotency_key,
        "request_digest": new.request_digest,
        "signature_digest": new.signature_digest,
        "created_at": new.created_at,
        "updated_at": new.created_at,
    }


def signal_from_new(new: NewSignal) -> Signal:
    return signal_from_values(row_values(new))


def signal_from_row(row: Any) -> Signal:
    """From a SignalRow or a Core row of the signals table."""
    return signal_from_values({c: getattr(row, c) for c in _DOMAIN_FIELDS})


_DOMAIN_FIELDS = (
    "id producer_id instrument side price stop_loss take_profit time version status "
    "created_at updated_at external_id payload"
).split()


def signal_from_values(v: dict[str, Any]) -> Signal:
    return Signal(
        id=v["id"],
        producer_id=v["producer_id"],
        instrument=v["instrument"],
        side=Side(v["side"]),
        price=v["price"].normalize(),
        stop_loss=v["stop_loss"].normalize(),
        take_profit=v["take_profit"].normalize(),
        time=v["time"],
        version=v["version"],
        status=SignalStatus(v["status"]),
        created_at=v["created_at"],
        updated_at=v["updated_at"],
        external_id=v["external_id"],
        payload=v["payload"],
    )
