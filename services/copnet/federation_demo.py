"""The local federation demo: a statewide hub and two regional instances on one machine.

`copnet federation-demo` runs, under one process manager (`copnet.cli.run.run_stack`, as `copnet
up` does), three whole stacks, each exactly what `copnet up` would run for it (`copnet.stack.plan`):

- the hub (COPNET_INSTANCE=hub, region "hub"): nats-server with JetStream (domain "hub") and a
  leaf-node listener with one user per demo region, its own database, the statewide service and
  the gateway in hub mode;
- one regional instance per region organization of the demo network (`seed.DEMO_REGION_
  ORGANIZATIONS`: bay-area, southern): its own nats-server (a leaf node of the hub, with the
  credentials the hub issues it: `federation_nats.region_credentials`), database, services and
  gateway; then its part of the demo network (`seed.demo_region_items`) loaded through its own
  gateway, the way `copnet seed demo` loads the whole demo.

Each instance has its own data directory, `<COPNET_DATA_DIR>/federation-demo/<instance>`, so a
second run finds its data again; and its own ports: a block of PORT_BLOCK ports per instance
from a base (hub base+0.., bay-area base+100.., southern base+200..: the hub's gateway is
http://127.0.0.1:18080 by default), or free ports (`free_ports`) when asked.
Process names carry their instance (`hub.nats`, `bay-area.gateway`, ...).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from copnet import seed
from copnet import stack as stack_module
from copnet.kernel.settings import HUB_DOMAIN, HUB_SERVICE_NAMES, SERVICE_NAMES, Settings, load_settings

DEMO_DIRECTORY = "federation-demo"
HUB = HUB_DOMAIN
REGIONS = tuple(seed.DEMO_REGION_ORGANIZATIONS)
DEFAULT_PORT_BASE = 18000
PORT_BLOCK = 100
# Where each port sits in an instance's block (echoing the usual ports: 8080, 27017, 4222, 8222,
# 7422, 5005x).
PORT_OFFSETS: dict[str, int] = {
    "gateway_port": 80, "embedded_mongodb_port": 17, "embedded_nats_port": 22, "embedded_nats_monitor_port": 82,
    "embedded_leaf_port": 74,
    **{f"{service}_port": 51 + n for n, service in enumerate((*SERVICE_NAMES, *HUB_SERVICE_NAMES))},
}
# What an instance never takes over from the settings the demo was started with: each instance
# has its own backends, secret, keys, addresses and link (made here, or by `stack.plan`).
NOT_SHARED = (
    "mongodb_uri", "nats_url", "nats_user", "nats_password", "secret", "token_public_keys_file", "service_key_file",
    "token_issuer_key_file", "pseudonym_key_file", "reflection_store_dir", "share_nats_user", "share_nats_password",
    "hub_leaf_url", "hub_leaf_user", "hub_leaf_password", "hub_leaf_ca_file", "hub_regions", "public_url",
    *(f"{service}_addr" for service in (*SERVICE_NAMES, *HUB_SERVICE_NAMES)),
)
# The demo loader's token lives long enough for every region's synthetic assessment imports.
SEED_TOKEN_SECONDS = 3600


def block_ports(index: int, base: int = DEFAULT_PORT_BASE) -> dict[str, int]:
    """Instance `index`'s ports (the hub is 0): its block of PORT_BLOCK ports from `base`."""
    start = base + index * PORT_BLOCK
    if base < 1024 or start + PORT_BLOCK > 65536:
        raise ValueError(f"port base {base}: the demo needs ports {base}-{base + 3 * PORT_BLOCK - 1} "
                         f"(1024-65535)")
    return {name: start + offset for name, offset in PORT_OFFSETS.items()}


def free_ports(index: int, host: str = "127.0.0.1") -> dict[str, int]:
    """Free ports for every port of an instance (`copnet.stack.free_port`)."""
    return {name: stack_module.free_port(host) for name in PORT_OFFSETS}


@dataclass
class DemoInstance:
    name: str
    settings: Settings
    plan: stack_module.StackPlan

    @property
    def gateway_url(self) -> str:
        return stack_module.gateway_url(self.settings)

    @property
    def is_hub(self) -> bool:
        return self.name == HUB

    def specs(self) -> list[stack_module.ProcessSpec]:
        """Its processes, named `<instance>.<process>` (one manager runs every instance's)."""
        return [dataclasses.replace(spec, name=self.process_name(spec.name)) for spec in self.plan.all]

    def process_name(self, process: str) -> str:
        return f"{self.name}.{process}"

    def infrastructure(self) -> set[str]:
        return {self.process_name(spec.name) for spec in self.plan.infrastructure}


@dataclass
class DemoPlan:
    hub: DemoInstance
    regions: list[DemoInstance]

    @property
    def instances(self) -> list[DemoInstance]:
        return [self.hub, *self.regions]

    def specs(self) -> list[stack_module.ProcessSpec]:
        return [spec for instance in self.instances for spec in instance.specs()]

    def infrastructure(self) -> set[str]:
        return set().union(*(instance.infrastructure() for instance in self.instances))

    def gateway_urls(self) -> list[str]:
        return [instance.gateway_url for instance in self.instances]

    def busy_ports(self) -> list[tuple[str, int]]:
        return [(instance.process_name(name), port) for instance in self.instances
                for name, port in stack_module.busy_ports(instance.plan, instance.settings.host)]


def demo_root(base: Settings) -> Path:
    return base.data_dir / DEMO_DIRECTORY


def instance_settings(base: Settings, name: str, ports: dict[str, int], **values) -> Settings:
    """`base` (the demo's own settings: log level, workers, time-outs...) made into one instance's:
    its own data directory and ports, embedded servers, and `values` (instance, link...)."""
    own = {name: Settings.model_fields[name].default for name in NOT_SHARED}
    return load_settings(**{**own, "data_dir": demo_root(base) / name, **ports, **values})


def plan_demo(base: Settings, ports: Callable[[int], dict[str, int]] | None = None) -> DemoPlan:
    """The hub and every demo region, each with its own settings and `stack.plan`.

    The hub is planned first; each region links with the leaf URL and the credentials the hub keeps
    for it (`federation_nats.link_settings`). `ports(index)` gives an instance's ports (default:
    `block_ports`).
    """
    from copnet import federation_nats

    ports = ports or block_ports
    hub_settings = instance_settings(base, HUB, ports(0), instance="hub", region=HUB, hub_regions=",".join(REGIONS))
    hub = DemoInstance(HUB, hub_settings, stack_module.plan(hub_settings))
    regions = []
    for index, region in enumerate(REGIONS, start=1):
        region_ports = ports(index)
        settings = instance_settings(
            base, region, region_ports, instance="region", region=region,
            **federation_nats.link_settings(hub_settings, region),
            # Where the region's own instance is: the hub shows it (joining happens there).
            public_url=f"http://{base.host}:{region_ports['gateway_port']}")
        regions.append(DemoInstance(region, settings, stack_module.plan(settings)))
    return DemoPlan(hub, regions)


def seed_region(instance: DemoInstance, now: dt.datetime | None = None,
                on_item: Callable[[seed.Item, str], None] | None = None) -> seed.SeedReport:
    """Load the region's part of the demo network through its gateway (`seed.load`, as the
    single-instance demo), as a platform admin of that region (its own issuer key)."""
    from copnet.kernel import token_keys
    from copnet.kernel.auth import Role, issue_token

    token = issue_token(token_keys.issuer(instance.settings), seed.SEED_PERSON_ID, Role.PLATFORM_ADMIN,
                        ttl_seconds=min(SEED_TOKEN_SECONDS, instance.settings.token_max_seconds))
    return seed.load(instance.gateway_url, token, seed.demo_region_items(instance.name, now), on_item, now)


def seed_regions(plan: DemoPlan, on_loaded: Callable[[DemoInstance, seed.SeedReport], None]) -> str | None:
    """Every region's part, the regions side by side; None, or the first failure (naming its region)."""
    failures: list[str] = []

    def one(instance: DemoInstance) -> None:
        try:
            report = seed_region(instance)
        except seed.SeedError as error:
            failures.append(f"loading region {instance.name}'s demo network failed: {error}")
            return
        on_loaded(instance, report)

    with ThreadPoolExecutor(max_workers=len(plan.regions), thread_name_prefix="demo-seed") as pool:
        list(pool.map(one, plan.regions))
    return failures[0] if failures else None
