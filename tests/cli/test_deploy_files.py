"""The deployment files (deploy/, docs/deploy.md) use commands the CLI has, settings that exist and values
that validate, so following them starts a desk instead of failing on a typo."""

from __future__ import annotations

import configparser
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from bot.cli import EXIT_CONFIG, _parser
from bot.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CONFIG_IN_CONTAINER = "/etc/signaldesk/config.toml"


def run_of(argv: list[str]) -> str:
    """The CLI function `signaldesk ARGV...` runs (argparse exits on an unknown command or option)."""
    assert argv[0].endswith("signaldesk"), argv
    return _parser().parse_args(argv[1:]).run.__name__


def setting_of(variable: str) -> Any:
    """The settings field a SIGNALDESK_<SECTION>__<KEY> (or SIGNALDESK_<FIELD>) variable sets."""
    assert variable.startswith("SIGNALDESK_"), variable
    *sections, key = variable.removeprefix("SIGNALDESK_").lower().split("__")
    model: type[BaseModel] = Settings
    for section in sections:
        assert section in model.model_fields, f"{variable}: no [{section}] section"
        model = model.model_fields[section].annotation  # type: ignore[assignment]
    assert key in model.model_fields, f"{variable}: no such setting"
    return model.model_fields[key]


def env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value[1:-1] if value[:1] == value[-1:] == "'" else value
    return values


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_the_secrets_example_sets_real_settings_to_valid_values(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = env_file(DEPLOY / "signaldesk.env.example")
    for name, value in secrets.items():
        setting_of(name)
        monkeypatch.setenv(name, value)
    settings = load_settings(ROOT / "config.toml.example")
    assert settings.telegram.token.get_secret_value() == secrets["SIGNALDESK_TELEGRAM__TOKEN"]
    assert [p.id for p in settings.producers] == ["alpha"], "the producers' JSON survives the env file's quoting"


def test_the_systemd_unit_runs_serve_as_a_non_root_user_with_config_secrets_and_restarts() -> None:
    unit = configparser.ConfigParser(interpolation=None, strict=True)
    unit.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    unit.read(DEPLOY / "signaldesk.service")
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"])
    assert run_of(argv) == "_serve"
    assert argv[argv.index("--config") + 1] == "/etc/signaldesk/config.toml"
    assert service["User"] not in ("", "root") and service["EnvironmentFile"] == "/etc/signaldesk/signaldesk.env"
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == str(EXIT_CONFIG), "an invalid config is not restarted in a loop"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_compose_runs_the_official_postgres_with_a_health_check_and_migrates_once_before_serving(compose: dict[str, Any]) -> None:
    services = compose["services"]
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:") and "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    migrate = services["migrate"]
    assert run_of(migrate["command"]) == "_db_upgrade"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("signaldesk", "signaldesk-2"):
        assert services[name]["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert services[name]["environment"]["SIGNALDESK_DATABASE__AUTO_MIGRATE"] == "false", "only `migrate` migrates"


def test_compose_sets_real_settings_and_mounts_the_config_where_the_commands_read_it(compose: dict[str, Any]) -> None:
    services = compose["services"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    command = json.loads(re.search(r"^CMD (.+)$", dockerfile, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert run_of(command) == "_serve" and command[-1] == CONFIG_IN_CONTAINER
    assert services["migrate"]["command"][-1] == CONFIG_IN_CONTAINER
    for name in ("migrate", "signaldesk", "signaldesk-2"):
        service = services[name]
        for variable in service["environment"]:
            setting_of(variable)
        assert f"./config.toml:{CONFIG_IN_CONTAINER}:ro" in service["volumes"]
        assert (DEPLOY / service["env_file"].replace("signaldesk.env", "signaldesk.env.example")).is_file()


def test_the_pair_shares_one_configuration_behind_a_proxy_that_reaches_both(compose: dict[str, Any]) -> None:
    services = compose["services"]
    first, second = services["signaldesk"], services["signaldesk-2"]
    assert (first["environment"], first["env_file"], first["volumes"]) == (second["environment"], second["env_file"], second["volumes"])
    assert second["profiles"] == services["proxy"]["profiles"] == ["pair"]
    port = first["environment"]["SIGNALDESK_HTTP__PORT"]
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    assert re.search(rf"reverse_proxy signaldesk:{port} signaldesk-2:{port}\b", caddyfile)
    assert "health_uri /readyz" in caddyfile and "/readyz" in " ".join(first["healthcheck"]["test"])


def guide_commands(guide: str) -> list[list[str]]:
    """`signaldesk ...` as inline code, and in code blocks at the start of a command or as .../bin/signaldesk."""
    blocks = re.findall(r"^```\w*\n(.*?)^```", guide, re.MULTILINE | re.DOTALL)
    lines = [line for block in blocks for line in block.splitlines()] + re.findall(r"`([^`\n]+)`", guide)
    commands = []
    for line in lines:
        tokens = shlex.split(line.replace("$(", "").replace(")", ""), comments=True)
        segments = " ".join(tokens).split(" && ")
        for segment in segments:
            words = segment.split()
            starts = [i for i, word in enumerate(words) if word.endswith("/bin/signaldesk") or (i == 0 and word == "signaldesk")]
            commands += [words[i:] for i in starts if len(words) > i + 1]
    return commands


def test_every_command_in_the_deployment_guide_exists() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text()
    runs = {run_of(argv) for argv in guide_commands(guide)}
    assert runs == {"_serve", "_db_upgrade", "_config_check", "_audit_verify"}, runs
    for path in re.findall(r"`(deploy/[\w.-]+)`", guide):
        assert (ROOT / path).is_file(), f"docs/deploy.md names {path}, which does not exist"
