"""Wording of the notes a chart returns for its caption."""


def counted(count: int, noun: str) -> str:
    """'1 candle', '5 candles'."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
