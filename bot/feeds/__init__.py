"""Price feed adapters."""
