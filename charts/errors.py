"""Errors raised by chart rendering; callers send the message without the chart."""


class ChartError(Exception):
    """A chart could not be produced from the data given."""


class NotEnoughData(ChartError):
    """Nothing drawable is left after skipping missing and invalid values."""
