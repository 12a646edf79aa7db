"""`copnet hub`: the statewide hub's links (docs/federation.md). Run on the hub's host with the
hub's settings (COPNET_INSTANCE=hub, its COPNET_DATA_DIR): each region's leaf-node credentials live
in <data dir>/leaf-credentials/<region>, readable by the owner only (copnet.federation_nats).

    copnet hub region add NAME          make NAME's credentials (once); print its hub.conf user block
    copnet hub region list              the regions with credentials, and whether they are linked
    copnet hub region credentials NAME  what the region's NATS needs to link (user and password)
    copnet hub region rotate NAME       a new password; a running hub nats-server reloads its users

The embedded hub (`copnet up --hub`) admits the regions of COPNET_HUB_REGIONS; add NAME there too.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path
from typing import Annotated

import typer

from copnet import federation_nats
from copnet import stack as stack_module
from copnet.cli.common import fail, settings_or_exit
from copnet.kernel.settings import HUB_DOMAIN, Settings

app = typer.Typer(help="The statewide hub: the regions linked to it and their leaf-node credentials.",
                  no_args_is_help=True)
region_app = typer.Typer(help="Regions' leaf-node credentials at this hub.", no_args_is_help=True)
app.add_typer(region_app, name="region")

REGION_NAME = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
# The server handles SIGHUP on its own goroutine: give it a moment before closing connections.
RELOAD_SECONDS = 0.5
RegionArgument = Annotated[str, typer.Argument(help="The region's name, exactly its COPNET_REGION.")]


def hub_settings(command: str) -> Settings:
    settings = settings_or_exit()
    if settings.instance != "hub":
        raise fail(f"copnet hub {command}: COPNET_INSTANCE is {settings.instance!r}; run it with the hub's "
                   "settings (COPNET_INSTANCE=hub, the hub's COPNET_DATA_DIR)", 2)
    return settings


def checked_region(command: str, region: str) -> str:
    if not REGION_NAME.match(region):
        raise fail(f"copnet hub {command}: region {region!r}: 2-32 lowercase letters, digits or dashes, "
                   "starting with a letter", 2)
    if region == HUB_DOMAIN:
        raise fail(f"copnet hub {command}: {HUB_DOMAIN!r} is the hub's own JetStream domain, not a region", 2)
    return region


def existing(command: str, settings: Settings, region: str) -> None:
    if region not in federation_nats.known_regions(settings):
        raise fail(f"copnet hub {command}: no credentials for region {region!r} (`copnet hub region add {region}`)", 1)


def hub_conf_block(region: str) -> str:
    """The region's user for deploy/nats/hub.conf (its password from COPNET_LEAF_PASSWORD_<REGION>)."""
    permissions = federation_nats.leaf_permissions(region)
    variable = f"COPNET_LEAF_PASSWORD_{region.upper().replace('-', '_')}"
    return (f'{{user: {federation_nats.leaf_user(region)}, password: ${variable}, '
            f'allowed_connection_types: ["LEAFNODE"],\n'
            f' permissions: {{\n'
            f'   publish: {{allow: {json.dumps(permissions["publish"]["allow"])}}},\n'
            f'   subscribe: {{allow: {json.dumps(permissions["subscribe"]["allow"])}}}}}}}')


def reload_running_server(settings: Settings, close_leaf_connections: bool) -> str:
    """Write the embedded nats-server's configuration again and make a running one reload it
    (SIGHUP to the pid it wrote), closing its leaf connections when a password changed; what
    happened, in words."""
    stack_module.nats_spec(settings, stack_module.instance_secret(settings))
    pid_file = settings.data_dir.resolve() / stack_module.NATS_PID_FILE
    try:
        pid = int(pid_file.read_text().strip())
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return "the hub's nats-server is not running here: the new password holds from its next start"
    if b"nats-server" not in command or str(pid_file).encode() not in command:
        return "the hub's nats-server is not running here: the new password holds from its next start"
    os.kill(pid, signal.SIGHUP)
    if not close_leaf_connections:
        return f"the hub's nats-server (pid {pid}) reloaded its users"
    # A reload leaves connections made with an old password open: close the leaf connections (each
    # region reconnects within seconds, with the credentials the server has now).
    monitor = f"http://{settings.host}:{settings.embedded_nats_monitor_port}"
    url = f"nats://{settings.host}:{settings.embedded_nats_port}"
    secret = stack_module.instance_secret(settings)
    time.sleep(RELOAD_SECONDS)
    try:
        closed = federation_nats.close_leaf_connections(
            monitor, url, stack_module.nats_password(secret, federation_nats.SYSTEM_USER))
    except Exception as error:  # noqa: BLE001 - the reload happened; say what did not
        return (f"the hub's nats-server (pid {pid}) reloaded its users, but its leaf connections could not be "
                f"closed ({error}): a region linked with the old password stays linked until its link drops")
    return (f"the hub's nats-server (pid {pid}) reloaded its users and closed {closed} leaf connection(s): "
            "the old password no longer links")


@region_app.command("add")
def add(region: RegionArgument) -> None:
    """Make REGION's leaf-node credentials (kept if they exist) and print its user block for
    deploy/nats/hub.conf."""
    settings = hub_settings("region add")
    checked_region("region add", region)
    made = region not in federation_nats.known_regions(settings)
    user, _ = federation_nats.region_credentials(settings, region)
    typer.echo(f"region {region}: leaf user {user} ({'credentials made' if made else 'credentials already made'})")
    if region not in settings.linked_regions:
        typer.echo(f"add {region} to COPNET_HUB_REGIONS (the embedded hub admits only those regions, and the "
                   "statewide stream sources only those)", err=True)
    elif made:
        typer.echo(reload_running_server(settings, close_leaf_connections=False))
    typer.echo(f"\ndeploy/nats/hub.conf, in the STATEWIDE account's users:\n{hub_conf_block(region)}")
    typer.echo(f"\nthe region's settings: `copnet hub region credentials {region}`")


@region_app.command("list")
def list_regions() -> None:
    """The regions with leaf-node credentials at this hub, and whether COPNET_HUB_REGIONS links them."""
    settings = hub_settings("region list")
    known = federation_nats.known_regions(settings)
    for region in dict.fromkeys([*settings.linked_regions, *known]):
        status = ("linked" if region in settings.linked_regions else "not in COPNET_HUB_REGIONS")
        if region not in known:
            status += ", no credentials yet (`copnet hub region add`)"
        typer.echo(f"{region:<33}{federation_nats.leaf_user(region):<40}{status}")
    if not known and not settings.linked_regions:
        typer.echo("no regions (`copnet hub region add NAME`)")


@region_app.command("credentials")
def credentials(region: RegionArgument) -> None:
    """What REGION's NATS needs to link to this hub: its user and password (keep them secret)."""
    settings = hub_settings("region credentials")
    checked_region("region credentials", region)
    existing("region credentials", settings, region)
    user, password = federation_nats.region_credentials(settings, region)
    typer.echo(f"COPNET_HUB_LEAF_USER={user}\nCOPNET_HUB_LEAF_PASSWORD={password}")
    typer.echo(f"# deploy/nats/leafnode-hub-link.conf: HUB_LEAF_URL=tls://{user}:{password}@<hub host>:7422",
               err=True)


@region_app.command("rotate")
def rotate(region: RegionArgument) -> None:
    """Give REGION a new leaf-node password; a running hub nats-server reloads its users, so the
    region's link drops until the region's NATS has the new one (docs/deployment.md)."""
    settings = hub_settings("region rotate")
    checked_region("region rotate", region)
    existing("region rotate", settings, region)
    user, password = federation_nats.rotate_region_credentials(settings, region)
    typer.echo(reload_running_server(settings, close_leaf_connections=True) if region in settings.linked_regions
               else f"{region} is not in COPNET_HUB_REGIONS: nothing to reload")
    typer.echo(f"COPNET_HUB_LEAF_USER={user}\nCOPNET_HUB_LEAF_PASSWORD={password}")
    typer.echo("# the region: set the new password (COPNET_HUB_LEAF_PASSWORD, or HUB_LEAF_URL for "
               "deploy/nats/leafnode-hub-link.conf) and restart its NATS; what it shared meanwhile arrives then",
               err=True)
