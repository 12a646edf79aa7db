"""Configuration from COPNET_* environment variables, validated once at start-up."""

from __future__ import annotations

import functools
import ipaddress
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# A regional instance's services (`share` sends what the region shares with the statewide hub).
SERVICE_NAMES = ("membership", "scheduling", "resources", "reflection", "plugins", "share")
# The statewide hub's services (docs/federation.md).
HUB_SERVICE_NAMES = ("statewide",)
_DEFAULT_PORTS = {"membership": 50051, "scheduling": 50052, "resources": 50053, "reflection": 50054,
                 "plugins": 50055, "share": 50056, "statewide": 50057}
# The JetStream domain of the statewide hub; no region may take this name.
HUB_DOMAIN = "hub"


class ConfigError(Exception):
    """A COPNET_* variable is missing or invalid; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COPNET_", extra="ignore", frozen=True)

    # Unset means "embedded": `copnet up` starts SecantusDB / nats-server itself.
    mongodb_uri: str | None = None
    nats_url: str | None = None
    # This service's own NATS user (the server limits what each user may publish); unset: connect
    # without credentials. `copnet up` sets them for the embedded nats-server.
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    region: str = Field("local", pattern=r"^[a-z][a-z0-9-]{1,31}$")
    # What this instance is: a regional instance, or the statewide hub its regions feed
    # (docs/federation.md). The hub runs the `statewide` service instead of the regional ones.
    instance: str = Field("region", pattern=r"^(region|hub)$")
    data_dir: Path = Path(".copnet")
    # The embedded stack's secret (its NATS passwords are derived from it); no service needs it.
    secret: SecretStr | None = None
    # Bearer tokens (docs/configuration.md): every process verifies with the public keys (a JWKS
    # file); a service signs its own service tokens with its own key; people's tokens are signed
    # with the issuer key, held only by whoever issues them (`copnet token issue`), never a service.
    token_public_keys_file: Path | None = None
    service_key_file: Path | None = None
    token_issuer_key_file: Path | None = None
    # The longest a person's token may live (issued and accepted).
    token_max_seconds: int = Field(12 * 3600, ge=60, le=7 * 24 * 3600)
    database_prefix: str = Field("copnet", pattern=r"^[a-z][a-z0-9_]{0,31}$")
    log_level: str = Field("INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")

    host: str = "127.0.0.1"
    gateway_port: int = Field(8080, ge=1, le=65535)
    # The gateway behind a reverse proxy (docs/deployment.md): its public address, on which the
    # absolute URLs it hands out (calendar feeds) are built, e.g. https://copnet.example.org; or
    # how many proxies in front of it to believe the X-Forwarded-* headers of. Neither: the URLs
    # follow the request's own scheme and Host.
    public_url: str = Field("", pattern=r"^(https?://[^/?#\s]+(/[^?#\s]*)?)?$")
    trusted_proxies: int = Field(0, ge=0, le=5)
    membership_port: int = Field(_DEFAULT_PORTS["membership"], ge=1, le=65535)
    scheduling_port: int = Field(_DEFAULT_PORTS["scheduling"], ge=1, le=65535)
    resources_port: int = Field(_DEFAULT_PORTS["resources"], ge=1, le=65535)
    reflection_port: int = Field(_DEFAULT_PORTS["reflection"], ge=1, le=65535)
    plugins_port: int = Field(_DEFAULT_PORTS["plugins"], ge=1, le=65535)
    share_port: int = Field(_DEFAULT_PORTS["share"], ge=1, le=65535)
    statewide_port: int = Field(_DEFAULT_PORTS["statewide"], ge=1, le=65535)
    # Where the gateway finds each service; defaults to host:port (set these in Kubernetes).
    membership_addr: str | None = None
    scheduling_addr: str | None = None
    resources_addr: str | None = None
    reflection_addr: str | None = None
    plugins_addr: str | None = None
    share_addr: str | None = None
    statewide_addr: str | None = None
    # Embedded servers' ports (only used when the URIs above are unset).
    embedded_mongodb_port: int = Field(27017, ge=1, le=65535)
    embedded_nats_port: int = Field(4222, ge=1, le=65535)
    embedded_nats_monitor_port: int = Field(8222, ge=1, le=65535)
    # The hub's embedded nats-server: the port regions' leaf nodes connect to.
    embedded_leaf_port: int = Field(7422, ge=1, le=65535)

    grpc_deadline_seconds: float = Field(5.0, gt=0, le=120)
    grpc_workers: int = Field(16, ge=1, le=512)
    # Calls one caller may have in flight in one service process (kernel.call_limits): a person
    # (or, without a token, one connection and client address), and a service on its own account; beyond that a call
    # is refused at once (RESOURCE_EXHAUSTED, 429 at the gateway). Calls waiting for a worker
    # beyond the workers: at most grpc_queued_calls, then gRPC refuses them at once too.
    grpc_calls_per_caller: int = Field(8, ge=1, le=4096)
    grpc_calls_per_service: int = Field(16, ge=1, le=4096)
    grpc_queued_calls: int = Field(32, ge=0, le=4096)
    gateway_workers: int = Field(2, ge=1, le=64)
    # Outbox relay: how often to sweep for stranded events even when nothing woke it.
    outbox_sweep_seconds: float = Field(5.0, gt=0, le=3600)
    # Consumers: redeliveries before a message goes to the dead-letter subject.
    max_deliver: int = Field(5, ge=1, le=100)
    ack_wait_seconds: float = Field(30.0, gt=0, le=3600)
    plugin_hook_timeout_seconds: float = Field(2.0, gt=0, le=60)
    # Consecutive failures (exceptions or time-outs) of one plugin for one organization's
    # configuration before this process switches it off there and reports it.
    plugin_failure_limit: int = Field(5, ge=1, le=1000)
    # Networks (comma-separated CIDRs, e.g. "10.20.0.0/16,fd00::/8") that plugins may connect to
    # besides public addresses: webhook-notify and email-notify refuse loopback, private,
    # link-local and metadata addresses unless listed here (an on-premises mail relay).
    plugin_allowed_networks: str = ""
    # Scheduling's reminders: how long before an occurrence starts each person is reminded (minutes,
    # comma-separated for several, e.g. "1440,60"), and how often the service looks for due ones.
    reminder_leads_minutes: str = Field("1440", pattern=r"^\s*\d{1,5}(\s*,\s*\d{1,5})*\s*$")
    reminder_interval_seconds: float = Field(60.0, gt=0, le=3600)
    # Data reflection (docs/reflection.md). Student-level rows live in files under this directory
    # (default: <data_dir>/reflection); back it up with the databases.
    reflection_store_dir: Path | None = None
    # The region's key for pseudonymising student ids (a file holding at least 32 random bytes);
    # `copnet up` makes one under <data_dir>/keys. Only the reflection service reads it.
    pseudonym_key_file: Path | None = None
    # The largest assessment file one import takes.
    assessment_file_max_bytes: int = Field(512 * 1024 * 1024, ge=1024, le=16 * 1024 ** 3)
    # Aggregates over fewer students (or teachers, or survey answers) than this are suppressed
    # everywhere they are shown or sent; never below 10.
    suppression_min_cell: int = Field(11, ge=10, le=1000)

    # Federation (docs/federation.md). A region: where its NATS server reaches the hub's leaf-node
    # port (e.g. tls://hub.example.org:7422; unset: not linked, the region still fills its share
    # stream), the region's leaf credentials there, and the CA that signed the hub's certificate.
    hub_leaf_url: str = Field("", pattern=r"^((tls|nats-leaf|nats)://[^\s/?#]+)?$")
    hub_leaf_user: str = ""
    hub_leaf_password: SecretStr | None = None
    hub_leaf_ca_file: Path | None = None
    # The share stream (what the region shares, kept until the hub has it): sized for the longest
    # outage of the link; a full stream refuses, and the share service's outbox keeps the record.
    share_max_age_days: int = Field(30, ge=1, le=3650)
    share_max_bytes: int = Field(1024 ** 3, ge=1024 ** 2, le=1024 ** 4)
    # The user of the NATS account that holds the share stream (only the share service gets it:
    # it creates and updates the stream). `copnet up` sets it for the embedded nats-server.
    share_nats_user: str | None = None
    share_nats_password: SecretStr | None = None
    # The hub: the regions allowed to link (comma-separated region names).
    hub_regions: str = Field("", pattern=r"^\s*([a-z][a-z0-9-]{1,31}(\s*,\s*[a-z][a-z0-9-]{1,31})*)?\s*$")

    @property
    def reminder_leads(self) -> tuple[int, ...]:
        return tuple(sorted({int(part) for part in self.reminder_leads_minutes.split(",") if int(part) > 0},
                            reverse=True))

    @property
    def linked_regions(self) -> tuple[str, ...]:
        """The hub's regions, in the order given, each once."""
        return tuple(dict.fromkeys(part.strip() for part in self.hub_regions.split(",") if part.strip()))

    @property
    def service_names(self) -> tuple[str, ...]:
        """The services this instance runs."""
        return HUB_SERVICE_NAMES if self.instance == "hub" else SERVICE_NAMES

    @model_validator(mode="after")
    def _region_not_the_hub_domain(self) -> "Settings":
        if self.instance == "region" and self.region == HUB_DOMAIN:
            raise ValueError(f"region: {HUB_DOMAIN!r} is the statewide hub's JetStream domain; choose another name")
        return self

    @field_validator("hub_regions")
    @classmethod
    def _regions_not_the_hub(cls, value: str) -> str:
        if HUB_DOMAIN in (part.strip() for part in value.split(",")):
            raise ValueError(f"{HUB_DOMAIN!r} is the hub's own JetStream domain, not a region")
        return value

    @property
    def plugin_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(ipaddress.ip_network(part.strip(), strict=False)
                     for part in self.plugin_allowed_networks.split(",") if part.strip())

    @field_validator("plugin_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"{part!r} is not a network in CIDR notation (e.g. 10.20.0.0/16)") from None
        return value

    @field_validator("secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (generate one with `openssl rand -hex 32`)")
        return value

    def nats_credentials(self) -> dict[str, str]:
        """Keyword arguments for `nats.connect`: this process's user and password, if configured."""
        if not self.nats_user:
            return {}
        password = self.nats_password.get_secret_value() if self.nats_password is not None else ""
        return {"user": self.nats_user, "password": password}

    def port_of(self, service: str) -> int:
        return getattr(self, f"{service}_port")

    def address_of(self, service: str) -> str:
        return getattr(self, f"{service}_addr") or f"{self.host}:{self.port_of(service)}"

    def database_name(self, service: str) -> str:
        return f"{self.database_prefix}_{service}"

    def require_secret(self) -> str:
        if self.secret is None:
            raise ConfigError("COPNET_SECRET: required (at least 32 characters)")
        return self.secret.get_secret_value()

    def require_backends(self) -> tuple[str, str]:
        if not self.mongodb_uri:
            raise ConfigError("COPNET_MONGODB_URI: required for a service process (`copnet up` sets it)")
        if not self.nats_url:
            raise ConfigError("COPNET_NATS_URL: required for a service process (`copnet up` sets it)")
        return self.mongodb_uri, self.nats_url


def load_settings(**overrides) -> Settings:
    """Read and validate the environment; a bad value raises ConfigError naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            # A rule across settings names its variable itself ("region: ..." -> COPNET_REGION).
            if not field and ": " in error["msg"]:
                field, _, message = error["msg"].removeprefix("Value error, ").partition(": ")
                problems.append(f"COPNET_{field.upper()}: {message}")
                continue
            problems.append(f"COPNET_{field.upper()}: {error['msg']}")
        raise ConfigError("; ".join(problems)) from None


@functools.cache
def settings() -> Settings:
    """The process's settings, read once."""
    return load_settings()
