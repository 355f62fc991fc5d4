"""The running SignalDesk process: CLI, composition root, Telegram, HTTP API and jobs."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("signaldesk")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
