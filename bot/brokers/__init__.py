"""Broker adapters: the paper simulator and MetaTrader 5."""
