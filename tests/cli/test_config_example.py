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
        _check_section(section, default, example[section])


def _check_section(name: str, defaults: BaseModel, documented_section: dict[str, object]) -> None:
    for key in type(defaults).model_fields:
        assert key in documented_section, f"{name}.{key} missing from config.toml.example"
        value = getattr(defaults, key)
        documented = documented_section[key]
        if isinstance(value, BaseModel):  # a sub-table such as [broker.mt5]
            assert isinstance(documented, dict), f"[{name}.{key}] must be a table"
            _check_section(f"{name}.{key}", value, documented)
            continue
        value = value.get_secret_value() if isinstance(value, SecretStr) else value
        documented = Decimal(str(documented)) if isinstance(value, Decimal) else documented
        assert documented == value, f"{name}.{key} documents a wrong default"
