"""Configuration: a TOML file overridden by SIGNALDESK_<SECTION>__<KEY> environment variables."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from core.signing import MIN_SECRET_BYTES
from core.tradingview import DIGEST_PATTERN, TRADINGVIEW_WEBHOOK_IPS, parse_networks

DEFAULT_CONFIG_PATH = Path("config.toml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _require_secret_bytes(secret: SecretStr, refusal: str) -> None:
    if len(secret.get_secret_value().encode()) < MIN_SECRET_BYTES:
        raise ValueError(refusal)


class DatabaseSettings(_Section):
    url: str = "sqlite+aiosqlite:///signaldesk.db"
    auto_migrate: bool = True


class HttpSettings(_Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8080


class TelegramSettings(_Section):
    token: SecretStr = SecretStr("")
    api_base: str = ""
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_secret: SecretStr = SecretStr("")
    traders: list[int] = []
    admins: list[int] = []
    viewers: list[int] = []
    ops_chat_id: int = 0
    consent_version: str = "1"
    rate_global_per_second: Annotated[float, Field(gt=0)] = 30
    rate_chat_per_second: Annotated[float, Field(gt=0)] = 1


class ProducerSettings(_Section):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]
    secrets: list[SecretStr] = []
    # SHA-256 digests (hex) of TradingView alert tokens; several while rotating. A TradingView-only
    # producer needs no HMAC secret.
    tradingview_token_sha256: list[str] = []

    @field_validator("secrets")
    @classmethod
    def _long_enough(cls, secrets: list[SecretStr]) -> list[SecretStr]:
        for secret in secrets:
            _require_secret_bytes(secret, f"every secret must be at least {MIN_SECRET_BYTES} bytes")
        return secrets

    @field_validator("tradingview_token_sha256")
    @classmethod
    def _digests(cls, digests: list[str]) -> list[str]:
        digests = [d.strip().lower() for d in digests]
        if any(not DIGEST_PATTERN.fullmatch(d) for d in digests):
            raise ValueError("every entry must be a SHA-256 hex digest (64 characters) from `signaldesk tradingview new-token`")
        return digests

    @model_validator(mode="after")
    def _some_credential(self) -> ProducerSettings:
        if not self.secrets and not self.tradingview_token_sha256:
            raise ValueError("give secrets (signed API) or tradingview_token_sha256 (TradingView alerts), or both")
        return self


class SignalSettings(_Section):
    max_body_bytes: Annotated[int, Field(ge=256, le=1_048_576)] = 32768
    max_clock_skew_seconds: Annotated[int, Field(ge=1, le=3600)] = 300
    dedup_window_seconds: Annotated[int, Field(ge=0)] = 300
    approval_ttl_minutes: Annotated[int, Field(ge=1)] = 60
    rate_per_second: Annotated[float, Field(ge=0)] = 20
    rate_burst: Annotated[int, Field(ge=1)] = 40


class OrderSettings(_Section):
    min_stop_distance_points: Annotated[int, Field(ge=0)] = 5
    min_reward_risk: Annotated[Decimal, Field(ge=0)] = Decimal("1.5")
    expiry_hours: Annotated[int, Field(ge=1)] = 100
    default_point: Annotated[Decimal, Field(gt=0)] = Decimal("0.01")
    # At execution, refuse when the market is further than this from the entry (instrument points).
    max_slippage_points: Annotated[int, Field(ge=0)] = 50


def _currency_code(code: str) -> str:
    if len(code) != 3 or not code.isascii() or not code.isalpha() or not code.isupper():
        raise ValueError("must be a three-letter currency code in capitals, such as USD, EUR or JPY")
    return code


Currency = Annotated[str, AfterValidator(_currency_code)]


class InstrumentSettings(_Section):
    point: Annotated[Decimal, Field(gt=0)]
    contract_size: Annotated[Decimal, Field(gt=0)] = Decimal(100_000)
    volume_step: Annotated[Decimal, Field(gt=0)] = Decimal("0.01")
    min_volume: Annotated[Decimal, Field(gt=0)] = Decimal("0.01")
    # The currency its prices are in (JPY for USDJPY); unset: the account's own.
    quote_currency: Currency | None = None


class RiskSettings(_Section):
    max_drawdown_percent: Annotated[Decimal, Field(ge=1, le=99)] = Decimal(20)
    risk_per_trade_percent: Annotated[Decimal, Field(gt=0, le=100)] = Decimal(1)
    # After a breach: allow new orders again once equity recovers within the cap, or only on `/drawdown reset`.
    resume_on_recovery: bool = True


class SchedulerSettings(_Section):
    heartbeat_seconds: Annotated[int, Field(ge=1)] = 10
    execution_batch: Annotated[int, Field(ge=1, le=1000)] = 10
    execution_interval_seconds: Annotated[float, Field(gt=0)] = 2
    # A claimed execution whose worker said nothing for this long is presumed dead and claimed again.
    execution_lease_seconds: Annotated[int, Field(ge=5)] = 60
    execution_max_attempts: Annotated[int, Field(ge=1)] = 5
    # With several instances on one database, one at a time runs the heartbeat, approval expiry, the
    # watchdog and the sender: the holder of this lease. Another takes over within this long of its death.
    job_lease_seconds: Annotated[int, Field(ge=3)] = 15


class Mt5Settings(_Section):
    login: int = 0
    password: SecretStr = SecretStr("")
    server: str = ""
    path: str = ""  # the terminal's terminal64.exe; empty: the one MetaTrader5 finds itself
    timeout_ms: Annotated[int, Field(ge=1000)] = 60000


class BrokerSettings(_Section):
    kind: Literal["paper", "mt5"] = "paper"
    starting_balance: Annotated[Decimal, Field(gt=0)] = Decimal(10000)
    currency: Currency = "USD"  # the accounts' currency; MT5: must be the terminal account's
    mt5: Mt5Settings = Mt5Settings()


class QuoteSettings(_Section):
    # A quote whose mid is more than this many times (or less than 1/this) the last one is refused.
    max_jump_ratio: Annotated[Decimal, Field(gt=1)] = Decimal(10)
    max_per_request: Annotated[int, Field(ge=1, le=10000)] = 500
    bar_minutes: Annotated[int, Field(ge=1, le=1440)] = 60  # the candles built from quotes, for charts


class FeedSettings(_Section):
    """A CSV price replay (demo, tests): ticks (time, instrument, bid, ask) or bars (time, open, high, low, close)."""

    csv: str = ""  # empty: no replay; prices come from POST /api/v1/quotes
    instrument: str = ""  # for bar files, which hold one instrument
    spread_points: Annotated[int, Field(ge=0)] = 0
    quotes_per_second: Annotated[float, Field(gt=0)] = 10


class ChartSettings(_Section):
    cache_ttl_seconds: Annotated[int, Field(ge=0)] = 300  # 0: no cache (every send renders and uploads)
    cache_max_entries: Annotated[int, Field(ge=1)] = 128
    theme: Literal["dark", "light"] = "dark"
    workers: Annotated[int, Field(ge=1, le=16)] = 1  # rendering processes
    max_pending: Annotated[int, Field(ge=1)] = 32  # charts waiting for a worker; beyond: sent without the chart
    # A chart not ready this long after it was asked for is left out: the message goes without it.
    render_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 3


class TradingViewSettings(_Section):
    public_url: str = ""  # the desk's public base URL, for the webhook URL `signaldesk tradingview template` prints
    allowed_ips: list[str] = list(TRADINGVIEW_WEBHOOK_IPS)  # [] = any address
    trusted_proxies: list[str] = []  # peers whose X-Forwarded-For is believed
    max_alert_age_seconds: Annotated[int, Field(ge=1, le=3600)] = 60
    strip_suffixes: list[Annotated[str, Field(min_length=1, max_length=16)]] = [".P", "PERP"]
    tickers: dict[Annotated[str, Field(min_length=1, max_length=64)], Annotated[str, Field(pattern=r"^[A-Z0-9._-]{2,20}$")]] = {}

    @field_validator("allowed_ips", "trusted_proxies")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        parse_networks(values)  # raises ValueError naming the bad entry
        return values


class AlertSettings(_Section):
    # The same alert (kind and subject) goes to the ops chat at most once per window; repeats are counted.
    window_seconds: Annotated[int, Field(ge=1)] = 300
    max_per_window: Annotated[int, Field(ge=1)] = 20  # all alerts together, so an outage cannot flood the chat
    # This many failed producer authentications within the window (per producer, or of unknown ids) raise an alert.
    auth_failures: Annotated[int, Field(ge=1)] = 10
    auth_failure_window_seconds: Annotated[int, Field(ge=1)] = 60
    # The watchdog's database probe: no answer within this long counts as the database being down.
    probe_timeout_seconds: Annotated[float, Field(gt=0)] = 2


class LogSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class ForwardSettings(_Section):
    """A target to which accepted and/or executed signals are POSTed, signed like a producer's (docs/forwarding.md)."""

    url: Annotated[str, Field(max_length=500)]  # the receiver's endpoint, e.g. https://desk-b.example/api/v1/signals
    producer_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")]  # who we are to the receiver
    secret: SecretStr
    events: list[Literal["accepted", "executed"]] = ["accepted", "executed"]
    # A delivery is given up (and ops alerted) after this many attempts or this long, whichever comes first.
    max_attempts: Annotated[int, Field(ge=1, le=1000)] = 50
    max_age_seconds: Annotated[int, Field(ge=1)] = 21600
    timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 10

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError("must be an absolute http(s) URL such as https://desk-b.example/api/v1/signals")
        return url

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr) -> SecretStr:
        _require_secret_bytes(secret, f"must be at least {MIN_SECRET_BYTES} bytes")
        return secret

    @field_validator("events")
    @classmethod
    def _some_events(cls, events: list[str]) -> list[str]:
        if not events or len(set(events)) != len(events):
            raise ValueError('list each of "accepted", "executed" at most once, and at least one')
        return events


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SIGNALDESK_", env_nested_delimiter="__", extra="forbid")

    database: DatabaseSettings = DatabaseSettings()
    http: HttpSettings = HttpSettings()
    telegram: TelegramSettings = TelegramSettings()
    producers: list[ProducerSettings] = []
    signals: SignalSettings = SignalSettings()
    orders: OrderSettings = OrderSettings()
    instruments: dict[Annotated[str, Field(pattern=r"^[A-Z0-9._-]{2,20}$")], InstrumentSettings] = {}
    risk: RiskSettings = RiskSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    broker: BrokerSettings = BrokerSettings()
    quotes: QuoteSettings = QuoteSettings()
    feed: FeedSettings = FeedSettings()
    charts: ChartSettings = ChartSettings()
    tradingview: TradingViewSettings = TradingViewSettings()
    alerts: AlertSettings = AlertSettings()
    log: LogSettings = LogSettings()
    forward: list[ForwardSettings] = []

    @model_validator(mode="after")
    def _unique_producers(self) -> Settings:
        ids = [p.id for p in self.producers]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise ValueError(f"producer ids must be unique; repeated: {', '.join(duplicated)}")
        return self

    @model_validator(mode="after")
    def _unique_forward_targets(self) -> Settings:
        urls = [target.url for target in self.forward]
        if len(set(urls)) != len(urls):
            raise ValueError("forward targets must have different urls (a url names its delivery queue)")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments, then the environment, then the TOML file.
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)


class ConfigError(Exception):
    """Invalid configuration; `lines` has one message per bad key."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Settings from `path` (default ./config.toml when present) and the environment."""
    if path is not None and not path.is_file():
        raise ConfigError([f"config file {path} not found"])
    if path is None and DEFAULT_CONFIG_PATH.is_file():
        path = DEFAULT_CONFIG_PATH

    class FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=path)

    try:
        return FileSettings(**overrides)
    except ValidationError as exc:
        raise ConfigError([_describe(error) for error in exc.errors()]) from None
    except ValueError as exc:  # TOML syntax errors
        raise ConfigError([f"{path}: {exc}"]) from None


def _describe(error: Any) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    secretish = any(word in key for word in ("secret", "token"))
    value = error.get("input")
    if not secretish and isinstance(value, (int, float, str)) and error["type"] != "extra_forbidden":
        message += f" (got {value!r})"
    return f"{key}: {message}"
