"""`copnet federation-demo`: a statewide hub and two regional instances on this machine, with the
demo network split between the regions (`copnet.federation_demo` says what runs where).

Runs in the foreground like `copnet up`: every process of the three stacks under one manager,
Ctrl-C (or SIGTERM) stops them all. Exit codes as `copnet up`'s: 0 a stop you asked for, 1
something did not work, 2 a usage or configuration problem (a busy port).
"""

from __future__ import annotations

from typing import Annotated

import typer

from copnet.cli.common import fail, settings_or_exit
from copnet.kernel.settings import ConfigError

COMMAND = "copnet federation-demo"
# The demo's three stacks start side by side: allow them longer than one stack's 90 s.
READY_TIMEOUT_SECONDS = 300.0
# The lines a script (or test) waits for.
HUB_LINE = "federation demo: hub "
READY_LINE = "federation demo is up: hub "


def federation_demo(
    port_base: Annotated[int, typer.Option(help="The first of the demo's ports: the hub takes a block of 100 "
                                                "from it, each region the next (the hub's gateway: base+80).")]
    = 18000,
    free_ports: Annotated[bool, typer.Option("--free-ports", help="Any free ports instead of the fixed blocks "
                                                                 "(the URLs are printed).")] = False,
    seed: Annotated[bool, typer.Option(help="Load each region's part of the demo network once it is up "
                                            "(idempotent).")] = True,
) -> None:
    """Run a statewide hub and two linked regional instances (bay-area, southern) with the demo
    network split between them, and print the hub's URL.

    Data of each instance lives in COPNET_DATA_DIR/federation-demo/<instance> (default .copnet/).
    Ctrl-C (or SIGTERM) stops every process.
    """
    from copnet import federation_demo as demo
    from copnet.cli.run import run_stack

    base = settings_or_exit()
    try:
        plan = demo.plan_demo(base, (lambda index: demo.free_ports(index, base.host)) if free_ports
                              else (lambda index: demo.block_ports(index, port_base)))
    except ValueError as error:  # the port base
        raise fail(f"{COMMAND}: {error}", 2) from None
    except (FileNotFoundError, ConfigError) as error:
        raise fail(f"{COMMAND}: {error}", 2) from None
    busy = plan.busy_ports()
    if busy:
        for name, port in busy:
            typer.echo(f"{COMMAND}: port {port} on {base.host} is already in use, needed by {name} "
                       f"(stop what uses it, or choose other ports with --port-base or --free-ports)", err=True)
        raise typer.Exit(2)
    typer.echo(f"{COMMAND}: a statewide hub and regions {', '.join(r.name for r in plan.regions)}, data in "
               f"{demo.demo_root(base).resolve()}")

    def after_ready(announce) -> str | None:
        announce(f"{HUB_LINE}{plan.hub.gateway_url}")
        for region in plan.regions:
            announce(f"federation demo: region {region.name} {region.gateway_url}")
        if seed:
            announce("federation demo: loading each region's part of the demo network (a few minutes: the "
                     "synthetic assessment data)")
            error = demo.seed_regions(plan, lambda region, report: announce(
                f"federation demo: region {region.name} loaded ({report.summary()})"))
            if error is not None:
                return error
        hub = plan.hub
        announce(f"{READY_LINE}{hub.gateway_url}  (statewide API docs: {hub.gateway_url}/api/v1/swagger)")
        announce(f"  statewide figures: COPNET_INSTANCE=hub COPNET_REGION=hub "
                 f"COPNET_DATA_DIR={hub.settings.data_dir.resolve()} copnet statewide regions "
                 f"--gateway {hub.gateway_url}")
        announce("  stop: Ctrl-C")
        return None

    raise typer.Exit(run_stack(plan.specs(), plan.infrastructure(), plan.gateway_urls(), after_ready,
                               ready_timeout=READY_TIMEOUT_SECONDS, command=COMMAND))
