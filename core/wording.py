"""Wording shared by messages: counts with their noun."""


def counted(count: int, noun: str) -> str:
    """'1 candle', '5 candles' (nouns whose plural is a plain -s)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
