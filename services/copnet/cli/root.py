"""The `copnet` command: run a local stack, check it, issue tokens, load demo data; the admin
command groups (orgs, communities, plugins, roster, milestones, sessions, occurrences, attendance,
feeds, hours) are registered here from their own modules.

Exit codes: 0 success (and for `up`, a stop you asked for with Ctrl-C / SIGTERM); 1 something
is not working (a service not SERVING, the stack never became ready, a process died, the
gateway refused data); 2 a usage or configuration problem (bad COPNET_* value, unknown role,
busy port).
"""

from __future__ import annotations

import enum
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from copnet import stack as stack_module
from copnet.cli import attendance, communities, cycles, data, measures, orgs, participation, plugins, scheduling, surveys
from copnet.cli import federation_demo, statewide
from copnet.cli.common import GatewayOption, fail, issuer_of, seed_token, settings_or_exit
from copnet.cli.hub import app as hub_app
from copnet.kernel.settings import HUB_DOMAIN, HUB_SERVICE_NAMES, SERVICE_NAMES, ConfigError, Settings, load_settings

app = typer.Typer(name="copnet", help="Run and operate a copnet regional instance.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_show_locals=False)
token_app = typer.Typer(help="Bearer tokens for the REST and gRPC APIs.", no_args_is_help=True)
app.add_typer(token_app, name="token")

# The COPNET_* variable behind each port of each process, for error messages.
PORT_VARIABLES = {
    "gateway": ("gateway_port",),
    "mongodb": ("embedded_mongodb_port",),
    "nats": ("embedded_nats_port", "embedded_nats_monitor_port", "embedded_leaf_port"),
    **{name: (f"{name}_port",) for name in (*SERVICE_NAMES, *HUB_SERVICE_NAMES)},
}


class Dataset(enum.StrEnum):
    demo = "demo"


def port_variable(settings: Settings, process: str, port: int) -> str:
    for name in PORT_VARIABLES.get(process, ()):
        if getattr(settings, name) == port:
            return f"COPNET_{name.upper()}"
    return "its COPNET_*_PORT variable"


# -- up ----------------------------------------------------------------------------------------

@app.command()
def up(
    seed: Annotated[Dataset | None, typer.Option(help="Load a data set once the stack is ready (idempotent).")] = None,
    hub: Annotated[bool, typer.Option("--hub", help="Run the statewide hub its regions link to (COPNET_INSTANCE=hub; "
                                                    "the regions allowed: COPNET_HUB_REGIONS).")] = False,
) -> None:
    """Start the whole stack in the foreground and wait until it is ready.

    Starts the embedded MongoDB-wire server and NATS (unless COPNET_MONGODB_URI / COPNET_NATS_URL
    are set), the services and the gateway: a regional instance's, or with --hub the statewide
    hub's (its NATS with a leaf-node port for the regions, the statewide service, the gateway's
    statewide API).

    Ctrl-C (or SIGTERM) stops every process. Data lives in COPNET_DATA_DIR (default .copnet/).
    """
    from copnet.cli.run import run_stack

    settings = hub_settings_or_exit() if hub else settings_or_exit()
    if settings.instance == "hub" and seed is not None:
        raise fail("copnet up: --seed loads a regional instance's data; a hub has none of its own (its regions "
                   "feed it; `copnet federation-demo` runs a hub with two seeded regions)", 2)
    try:
        plan = stack_module.plan(settings)
    except (FileNotFoundError, ConfigError) as error:
        raise fail(f"copnet up: {error}", 2) from None
    busy = stack_module.busy_ports(plan, settings.host)
    if busy:
        for name, port in busy:
            typer.echo(f"copnet up: port {port} on {settings.host} is already in use, needed by {name} "
                       f"(stop what uses it, or set {port_variable(settings, name, port)})", err=True)
        raise typer.Exit(2)

    describe(plan, settings)
    gateway_url = stack_module.gateway_url(settings)
    issuer = issuer_of(settings)  # the stack's plan made it (data directory) unless a file is configured

    def after_ready(announce) -> str | None:
        if seed is Dataset.demo:
            from copnet import seed as seed_module

            try:
                report = seed_module.load_demo(gateway_url, seed_token(issuer))
            except seed_module.SeedError as error:
                return f"loading the demo network failed: {error}"
            announce(f"copnet up: demo network loaded ({report.summary()})")
        if settings.instance == "hub":
            for line in hub_link_lines(settings):
                announce(line)
        announce(f"copnet is up: {gateway_url}  (API docs: {gateway_url}/api/v1/swagger)")
        return None

    infrastructure = {spec.name for spec in plan.infrastructure}
    raise typer.Exit(run_stack(plan.all, infrastructure, gateway_url, after_ready))


def hub_settings_or_exit() -> Settings:
    """The settings with COPNET_INSTANCE=hub and the hub's region name, whatever the environment says."""
    try:
        return load_settings(instance="hub", region=HUB_DOMAIN)
    except ConfigError as error:
        raise fail(f"copnet: configuration error: {error}", 2) from None


def hub_link_lines(settings: Settings) -> list[str]:
    """How a region links to this hub (docs/federation.md)."""
    from copnet.federation_nats import hub_leaf_url

    leaf_url = hub_leaf_url(settings)
    regions = settings.linked_regions
    lines = [(f"copnet up: regions link to this hub's NATS at {leaf_url} (COPNET_HUB_LEAF_URL of the region; "
              f"from another machine, this host's name, with TLS in production: deploy/nats/)")]
    if regions:
        lines.append(f"copnet up: regions allowed to link: {', '.join(regions)} (COPNET_HUB_REGIONS); a region's "
                     f"COPNET_HUB_LEAF_USER and COPNET_HUB_LEAF_PASSWORD: `copnet hub region credentials NAME` "
                     f"with this hub's settings (COPNET_INSTANCE=hub, COPNET_DATA_DIR={settings.data_dir})")
    else:
        lines.append("copnet up: no region may link yet: set COPNET_HUB_REGIONS (comma-separated region names) "
                     "and start the hub again")
    return lines


def describe(plan: stack_module.StackPlan, settings: Settings) -> None:
    """What is about to start, where, and where its data goes (never a URI: it may hold a password)."""
    table = Table(box=None, show_header=False, pad_edge=False)
    embedded = {spec.name for spec in plan.infrastructure}
    if "mongodb" not in embedded:
        table.add_row("mongodb", "external (COPNET_MONGODB_URI)")
    if "nats" not in embedded:
        table.add_row("nats", "external (COPNET_NATS_URL)")
    what = {"mongodb": "embedded SecantusDB", "nats": "embedded nats-server (JetStream)", "gateway": "HTTP"}
    for spec in plan.all:
        where = ", ".join(f"{settings.host}:{port}" for port in spec.ports)
        table.add_row(spec.name, what.get(spec.name, "gRPC"), where)
    console = Console(highlight=False)
    what_runs = "statewide hub" if settings.instance == "hub" else f"region {settings.region}"
    console.print(f"copnet up: {what_runs}, data in {settings.data_dir.resolve()}", markup=False)
    console.print(table)


# -- status ------------------------------------------------------------------------------------

@app.command()
def status(
    gateway: GatewayOption = None,
) -> None:
    """Health of every service and of the gateway; exit 1 when anything is not SERVING.

    Services: standard gRPC health, with their MongoDB and NATS dependencies. Gateway: /readyz.
    """
    from copnet.kernel.clients import Clients
    from copnet.kernel.grpcserver import DEPENDENCY_MONGODB, DEPENDENCY_NATS

    settings = settings_or_exit()
    clients = Clients(settings)
    table = Table(title="copnet status")
    for column in ("process", "address", "health", "mongodb", "nats"):
        table.add_column(column)
    healthy = True
    try:
        for name in settings.service_names:
            client = clients[name]
            states = [client.health_status("", timeout=2.0)]
            if states[0] != "UNREACHABLE":
                states += [client.health_status(DEPENDENCY_MONGODB, timeout=2.0),
                           client.health_status(DEPENDENCY_NATS, timeout=2.0)]
            else:
                states += ["-", "-"]
            healthy &= states[0] == "SERVING" and all(state == "SERVING" for state in states[1:])
            table.add_row(name, client.address, *(colour(state) for state in states))
    finally:
        clients.close()
    url = (gateway or stack_module.gateway_url(settings)).rstrip("/")
    code, _ = stack_module.http_get(f"{url}/readyz", timeout=2)
    gateway_state = "SERVING" if code == 200 else ("UNREACHABLE" if code is None else f"NOT_SERVING ({code})")
    healthy &= code == 200
    table.add_row("gateway", url, colour(gateway_state), "", "")
    Console().print(table)
    raise typer.Exit(0 if healthy else 1)


def colour(state: str) -> str:
    if state in ("-", ""):
        return state
    return f"[green]{state}[/]" if state == "SERVING" else f"[red]{state}[/]"


# -- token -------------------------------------------------------------------------------------

@token_app.command("issue")
def token_issue(
    person: Annotated[str, typer.Option(help="The person's id (the token's subject).")],
    role: Annotated[str, typer.Option(help="member, facilitator, county_admin, regional_lead, "
                                           "state_coordinator, data_steward or platform_admin.")],
    org: Annotated[str, typer.Option(help="Organization id the role is held at (not needed for platform_admin).")] = "",
    ttl: Annotated[int, typer.Option(min=1, help="Lifetime in seconds (at most COPNET_TOKEN_MAX_SECONDS, "
                                                 "12 hours unless set).")] = 8 * 3600,
) -> None:
    """Print a bearer token for COPNET_REGION signed with the token issuer key
    (COPNET_TOKEN_ISSUER_KEY_FILE, or the local stack's in the data directory)."""
    from copnet.kernel.auth import OrganizationRequired, Role, issue_token

    roles = [r.value for r in Role]
    if role not in roles:
        raise fail(f"copnet token issue: unknown role {role!r}; choose one of {', '.join(roles)}", 2)
    if not person.strip():
        raise fail("copnet token issue: --person must not be empty", 2)
    settings = settings_or_exit()
    if ttl > settings.token_max_seconds:
        raise fail(f"copnet token issue: --ttl {ttl} is longer than this instance allows: at most "
                   f"{settings.token_max_seconds} seconds (COPNET_TOKEN_MAX_SECONDS)", 2)
    try:
        token = issue_token(issuer_of(settings), person.strip(), role, org, ttl_seconds=ttl)
    except OrganizationRequired as error:
        raise fail(f"copnet token issue: {error} (--org ORG_ID)", 2) from None
    except ValueError as error:  # the other rules of issue_token: no service: ids, the lifetime cap
        raise fail(f"copnet token issue: {error}", 2) from None
    typer.echo(token)


@token_app.command("revoke")
def token_revoke(
    token_or_id: Annotated[str, typer.Argument(metavar="TOKEN_OR_ID",
                                               help="The token itself, or its id (the jti claim).")],
    token: Annotated[str | None, typer.Option(
        help="A platform_admin token to act with (default $COPNET_TOKEN, else one of the issuer key).")] = None,
) -> None:
    """Revoke a token: every service refuses it within seconds (membership keeps the list until
    the token would have expired). Calls membership over gRPC (COPNET_MEMBERSHIP_ADDR)."""
    import grpc
    import jwt

    from copnet.kernel.clients import Clients
    from copnet.kernel.errors import details_of
    from copnet.membership.client import MEMBERSHIP
    from copnet.membership.v1 import membership_pb2

    token_id = token_or_id.strip()
    if token_id.count(".") == 2:  # a JWT: its id, read without checking it (a forged one revokes nothing)
        try:
            token_id = str(jwt.decode(token_id, options={"verify_signature": False}).get("jti", ""))
        except jwt.InvalidTokenError:
            raise fail("copnet token revoke: that is not a token (nor a token id)", 2) from None
    settings = settings_or_exit()
    acting = token or os.environ.get("COPNET_TOKEN") or seed_token(issuer_of(settings))
    clients = Clients(settings)
    try:
        reply = clients.stub(MEMBERSHIP, token=acting).RevokeToken(membership_pb2.RevokeTokenRequest(token_id=token_id))
    except grpc.RpcError as error:
        details = details_of(error)
        what = " ".join(filter(None, (error.code().name, details.reason)))
        raise fail(f"copnet token revoke: {what}: {details.message}", 1) from None
    finally:
        clients.close()
    expires = reply.revoked.expire_time.ToDatetime().strftime("%Y-%m-%d %H:%M UTC")
    typer.echo(f"revoked {reply.revoked.token_id} (refused by every service until {expires})")


@token_app.command("keys")
def token_keys_command(
    directory: Annotated[Path, typer.Argument(help="Where to write the keys (made if missing; existing keys "
                                                   "are kept).")],
) -> None:
    """Make an instance's token signing keys: the issuer's (issuer.pem: for whoever issues people's
    tokens, never a service), one per service (service-<name>.pem: that service's
    COPNET_SERVICE_KEY_FILE) and the public keys of all of them (public-keys.json: every process's
    COPNET_TOKEN_PUBLIC_KEYS_FILE); and the region's pseudonym key (pseudonym.key: the reflection
    service's COPNET_PSEUDONYM_KEY_FILE, for student ids)."""
    from copnet.kernel import token_keys
    from copnet.reflection.datasets.pseudonyms import make_key_file
    from copnet.stack import PSEUDONYM_KEY_FILE

    services = settings_or_exit().service_names  # a hub's (COPNET_INSTANCE=hub): the statewide service's
    try:
        files = token_keys.make_key_set(directory, services)
        pseudonym_key = make_key_file(Path(directory) / PSEUDONYM_KEY_FILE)
    except OSError as error:
        raise fail(f"copnet token keys: cannot write to {directory}: {error.strerror or error}", 2) from None
    typer.echo(f"issuer key:      {files.issuer}")
    for name in services:
        typer.echo(f"{name + ' key:':<17}{files.service(name)}")
    typer.echo(f"public keys:     {files.public}")
    typer.echo(f"pseudonym key:   {pseudonym_key}")


# -- seed --------------------------------------------------------------------------------------

@app.command()
def seed(
    dataset: Annotated[Dataset, typer.Argument(help="The data set to load.")],
    gateway: GatewayOption = None,
) -> None:
    """Load a data set through the gateway's REST API, as a platform admin (safe to repeat).

    What is already there (409 Conflict) is left alone.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from copnet import seed as seed_module

    settings = settings_or_exit()
    url = (gateway or stack_module.gateway_url(settings)).rstrip("/")
    token = seed_token(issuer_of(settings))
    items = seed_module.demo_items()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[item]}"), console=Console(stderr=True)) as progress:
        task = progress.add_task(f"{dataset} network", total=len(items), item="")

        def advance(item, outcome: str) -> None:
            progress.update(task, advance=1, item=f"{item.id} ({outcome})")

        try:
            report = seed_module.load(url, token, items, advance)
        except seed_module.SeedError as error:
            progress.stop()
            raise fail(f"copnet seed: {error}", 1) from None
    typer.echo(f"{dataset} network: {report.summary()}")


# -- serve -------------------------------------------------------------------------------------

@app.command()
def serve(
    service: Annotated[str, typer.Argument(help=f"One of {', '.join(SERVICE_NAMES)}, gateway.")],
) -> None:
    """Run one process in the foreground (as a container would), configured by COPNET_*."""
    settings = settings_or_exit()
    if service in SERVICE_NAMES:
        argv = [sys.executable, "-m", f"copnet.{service}"]
    elif service == "gateway":
        argv = stack_module.gateway_spec(settings, dict(os.environ)).argv
    else:
        raise fail(f"copnet serve: unknown process {service!r}; choose one of "
                   f"{', '.join([*SERVICE_NAMES, 'gateway'])}", 2)
    sys.stdout.flush()
    os.execv(argv[0], argv)


# The admin command groups, after the commands above (the order `copnet --help` lists them in).
app.add_typer(orgs.app, name="orgs")
app.add_typer(communities.app, name="communities")
app.add_typer(plugins.app, name="plugins")
app.add_typer(plugins.roster_app, name="roster")
app.add_typer(scheduling.milestones_app, name="milestones")
app.add_typer(scheduling.sessions_app, name="sessions")
app.add_typer(scheduling.occurrences_app, name="occurrences")
app.add_typer(attendance.attendance_app, name="attendance")
app.add_typer(attendance.feeds_app, name="feeds")
app.add_typer(data.app, name="data")
app.add_typer(measures.app, name="measures")
app.add_typer(participation.app, name="participation")
app.add_typer(cycles.app, name="cycles")
app.add_typer(surveys.app, name="surveys")
app.command("hours")(attendance.hours)
app.add_typer(statewide.app, name="statewide")
app.add_typer(hub_app, name="hub")
app.command("federation-demo")(federation_demo.federation_demo)


def main() -> None:
    app()
