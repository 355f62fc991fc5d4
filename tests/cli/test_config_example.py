"""config.toml.example documents every key with its real default."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, SecretStr

from bot.config import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / "config.toml.example"


def test_example_lists_every_section_key_with_its_default() -> None:
    example = tomllib.loads(EXAMPLE.read_text())
    defaults = Settings.model_construct()
    for section, field in Settings.model_fields.items():
        default = getattr(defaults, section, None)
        if not isinstance(default, BaseModel):
            assert section in EXAMPLE.read_text(), f"[{section}] is not documented"
            continue
        assert section in example, f"[{section}] missing from config.toml.example"
        for key in type(default).model_fields:
            assert key in example[section], f"{section}.{key} missing from config.toml.example"
            value = getattr(default, key)
            value = value.get_secret_value() if isinstance(value, SecretStr) else value
            documented = example[section][key]
            documented = Decimal(str(documented)) if isinstance(value, Decimal) else documented
            assert documented == value, f"{section}.{key} documents a wrong default"
