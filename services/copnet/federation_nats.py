"""The NATS side of federation: the region's and the hub's nats-server configurations, and the
regions' leaf-node credentials at the hub (docs/federation.md).

A region's server has two accounts. COPNET holds the services (one user each, publishing only its
own subjects; the share service's user may also publish `copnet-share.<region>.>`) and the
operator. SHARE holds only the share stream `copnet-share-<region>` and its administrator
(`share-admin`, given to the share service alone: it creates the stream). COPNET imports the
service `copnet-share.<region>.>` from SHARE, so a share publish from COPNET is acknowledged by the
share stream. JetStream's domain is the region's name. With `hub_leaf_url` set the server is a
leaf node of the hub, the remote bound to SHARE: the hub sees nothing of COPNET. Deny lists on the
remote are the second layer: from the hub, no stream administration (create, update, delete,
purge, message delete, restore, ...), no share subject and no copnet.* / copnet-dlq.*; to the hub,
no copnet.* / copnet-dlq.* and no JetStream API request at all (the region answers, never asks).

The hub's server has JetStream domain `hub` and one account, STATEWIDE: the statewide service's
user, the operator, and one leaf user per linked region (`region-<name>`, allowed only as a leaf
connection). A region's leaf user is confined by its permissions (checked with real servers in
tests/integration/test_federation_link.py):
  - what the hub may send into the region (the user's `subscribe`): its own domain's JetStream API
    (`$JS.<region>.API.>`, which the region's deny list narrows to reading the share stream) and
    its source's flow control (`$JS.FC.<region>.>`, `$JS.FC.copnet-share-<region>.>`);
  - what the region may send into the hub (the user's `publish`): only its own source's
    deliveries, `copnet-deliver.<region>.>`, and the answers to the hub's JetStream requests
    (`$JSC.R.>`). So a region cannot call the hub's JetStream API (`$JS.hub.API.*`, `$JS.API.*`),
    cannot reach another region's domain nor inject into another region's deliveries (it would
    learn their subjects from the hub's interest otherwise), and cannot publish onto any subject
    the hub stores except through the source of its own share stream.
The statewide stream's source for a region MUST therefore set `external.deliver` to
`deliver_prefix(region)`: use `statewide_source(region)` (without it nothing arrives).

What arrives at the hub: the statewide stream sources `copnet-share-<region>` with filter
`copnet-share.<region>.>` through `$JS.<region>.API`. A sourced message keeps its subject
(`copnet-share.<region>.<kind>`) and gains a `Nats-Stream-Source` header naming the origin stream,
e.g. `copnet-share-north:GdAn74Cw 12 copnet-share.north.> > copnet-share.north.measures Ah04ufg2`
(nats-server 2.15: its first token, before the `:`, is the origin stream's name; the second is
the message's sequence in the origin stream; then the source's filter and subject transform).
The header's `<stream>:<hash>` is the hub's name for its own source (the hash is the same for the
same source configuration across runs; not checked against a forged delivery), and a source's
deliveries can only come from its region (its leaf user alone may publish on
`copnet-deliver.<region>.>`): take the region from the header. The subject's region token is set
by the region's server applying the source's filter; a region's unmodified server cannot forge it
(a client there publishing a fake delivery is refused: its `$JS.ACK.` reply is not its to use),
but a modified one could, so ingest should refuse a message whose subject names another region
than its header. A sourced message is also seen, on its subject, by a subscriber at the hub
(`>` in STATEWIDE), which is how a test can capture everything that crossed.

Leaf credentials: `region_credentials(hub_settings, region)` -> (user, password), a random
password made at first use and kept 0600 under <hub data_dir>/leaf-credentials/<region>.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from urllib.parse import quote

from nats.js.api import ExternalStream, StreamSource

from copnet.kernel.federation import (
    SHARE_SUBJECT_PREFIX,
    region_api_prefix,
    share_stream_name,
)
from copnet.kernel.settings import HUB_DOMAIN, Settings

SERVICES_ACCOUNT = "COPNET"
SHARE_ACCOUNT = "SHARE"
SHARE_ADMIN = "share-admin"
HUB_ACCOUNT = "STATEWIDE"
CREDENTIALS_DIRECTORY = "leaf-credentials"
DELIVER_SUBJECT_PREFIX = "copnet-deliver"
SYSTEM_ACCOUNT = "SYS"
SYSTEM_USER = "system"
# A region's JetStream administration the hub may never ask for over the link.
STREAM_ADMINISTRATION = ("STREAM.CREATE.>", "STREAM.UPDATE.>", "STREAM.DELETE.>", "STREAM.PURGE.>",
                         "STREAM.MSG.DELETE.>", "STREAM.RESTORE.>", "STREAM.SNAPSHOT.>", "STREAM.LEADER.STEPDOWN.>",
                         "STREAM.PEER.REMOVE.>", "CONSUMER.DELETE.>", "ACCOUNT.PURGE.>", "SERVER.REMOVE",
                         "META.LEADER.STEPDOWN")
# The services' own namespaces: never across the link, either way.
PRIVATE_SUBJECTS = ("copnet.>", "copnet-dlq.>")


def share_subjects_pattern(region: str) -> str:
    return f"{SHARE_SUBJECT_PREFIX}.{region}.>"


def write_private(path: Path, text: str) -> None:
    """`text` into `path`, readable by the owner only (it holds passwords)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)  # an older file may have been readable by others


def render(config: dict) -> str:
    """A nats-server configuration: one top-level key a line, values in JSON (which it reads)."""
    return "".join(f"{key}: {json.dumps(value, indent=2)}\n" for key, value in config.items())


# -- a region --------------------------------------------------------------------------------------
def leaf_deny_imports(region: str) -> list[str]:
    """From the hub into the region: no stream administration, no share subject (nothing can be
    injected into the share stream), none of the services' subjects."""
    return [f"{SHARE_SUBJECT_PREFIX}.>", *(f"$JS.*.API.{action}" for action in STREAM_ADMINISTRATION),
            *PRIVATE_SUBJECTS]


def leaf_deny_exports(region: str) -> list[str]:
    """From the region to the hub: none of the services' subjects (SHARE holds none; this holds
    should an import ever be added by mistake), and no JetStream API request of any domain (the
    hub's, another region's): the region only answers the hub's requests, never asks."""
    return [*PRIVATE_SUBJECTS, "$JS.API.>", "$JS.*.API.>"]


def leaf_remote(settings: Settings) -> dict:
    """The leaf-node remote to the hub, bound to SHARE, with the region's credentials and deny lists."""
    url = settings.hub_leaf_url
    if settings.hub_leaf_user:  # a remote takes its user and password only in the URL
        password = settings.hub_leaf_password.get_secret_value() if settings.hub_leaf_password else ""
        scheme, _, rest = url.partition("://")
        url = f"{scheme}://{quote(settings.hub_leaf_user, safe='')}:{quote(password, safe='')}@{rest}"
    remote: dict = {"urls": [url], "account": SHARE_ACCOUNT,
                    "deny_imports": leaf_deny_imports(settings.region),
                    "deny_exports": leaf_deny_exports(settings.region)}
    if settings.hub_leaf_ca_file is not None:
        remote["tls"] = {"ca_file": str(settings.hub_leaf_ca_file.resolve())}
    return remote


def region_accounts(region: str, service_users: list[dict], share_admin_password: str) -> dict:
    """COPNET (the services and the operator) and SHARE (the share stream and its administrator)."""
    shared = share_subjects_pattern(region)
    return {
        SERVICES_ACCOUNT: {"jetstream": "enabled", "users": service_users,
                           "imports": [{"service": {"account": SHARE_ACCOUNT, "subject": shared}}]},
        SHARE_ACCOUNT: {"jetstream": "enabled",
                        "users": [{"user": SHARE_ADMIN, "password": share_admin_password}],
                        "exports": [{"service": shared, "accounts": [SERVICES_ACCOUNT]}]},
    }


def region_config(settings: Settings, store: Path, service_users: list[dict], share_admin_password: str) -> dict:
    """The regional nats-server's configuration (ports and name come on the command line)."""
    config: dict = {
        # Fsync every message before the PubAck: the relay deletes an outbox entry on that ack, so an
        # acknowledged event must survive a power cut (a single node has no replica to recover from).
        "jetstream": {"store_dir": str(store), "sync_interval": "always", "domain": settings.region},
        "accounts": region_accounts(settings.region, service_users, share_admin_password),
    }
    if settings.hub_leaf_url:
        config["leafnodes"] = {"remotes": [leaf_remote(settings)]}
    return config


# -- the hub ---------------------------------------------------------------------------------------
def leaf_user(region: str) -> str:
    return f"region-{region}"


def deliver_prefix(region: str) -> str:
    """The subjects on which `region`'s share stream delivers to the hub's statewide stream (the
    source's `external.deliver`): the only subjects the region's leaf user may publish at the hub."""
    return f"{DELIVER_SUBJECT_PREFIX}.{region}"


def statewide_source(region: str) -> StreamSource:
    """The statewide stream's source for `region` (the hub's statewide service creates the stream
    with one per linked region): its share stream, only its share subjects, through its domain."""
    return StreamSource(name=share_stream_name(region), filter_subject=share_subjects_pattern(region),
                        external=ExternalStream(api=region_api_prefix(region), deliver=deliver_prefix(region)))


def leaf_permissions(region: str) -> dict:
    """What a region's leaf connection may do at the hub. For a leaf connection `publish` is what
    the region may send into the hub and `subscribe` what the hub may send it (tested)."""
    return {
        # the source's deliveries and the answers to the hub's JetStream requests ($JSC.R.*)
        "publish": {"allow": [f"{deliver_prefix(region)}.>", "$JSC.R.>"]},
        # the region's own JetStream API (the region's deny lists narrow it to reading) and the
        # source's flow control
        "subscribe": {"allow": [f"{region_api_prefix(region)}.>", f"$JS.FC.{region}.>",
                                f"$JS.FC.{share_stream_name(region)}.>"]},
    }


def hub_leaf_users(settings: Settings) -> list[dict]:
    users = []
    for region in settings.linked_regions:
        user, password = region_credentials(settings, region)
        users.append({"user": user, "password": password, "allowed_connection_types": ["LEAFNODE"],
                      "permissions": leaf_permissions(region)})
    return users


def hub_config(settings: Settings, store: Path, service_users: list[dict], system_password: str) -> dict:
    """The hub's nats-server: JetStream domain `hub`, the STATEWIDE account (the hub's services, the
    operator, the regions' leaf users), the leaf-node listener (ports come from settings), and the
    system account, whose user `copnet hub region rotate` closes the leaf connections with (a
    reload does not end a connection made with a password that has since changed)."""
    return {
        "jetstream": {"store_dir": str(store), "sync_interval": "always", "domain": HUB_DOMAIN},
        "accounts": {HUB_ACCOUNT: {"jetstream": "enabled", "users": [*service_users, *hub_leaf_users(settings)]},
                     SYSTEM_ACCOUNT: {"users": [{"user": SYSTEM_USER, "password": system_password}]}},
        "system_account": SYSTEM_ACCOUNT,
        # no_advertise: a region reconnects only to the URL it was given (the hub's public name, the
        # one its TLS certificate is for), never to the listener's own addresses, which the hub
        # would otherwise tell it (and which may not be reachable, or not the way it should go).
        "leafnodes": {"host": settings.host, "port": settings.embedded_leaf_port, "no_advertise": True},
    }


def close_leaf_connections(monitor_url: str, nats_url: str, system_password: str) -> int:
    """Close every leaf-node connection of a running hub nats-server (each region reconnects within
    seconds, with the credentials the server has now); how many were closed."""
    import asyncio
    import urllib.request

    import nats

    def get(path: str) -> dict:
        with urllib.request.urlopen(f"{monitor_url}{path}", timeout=5) as response:
            return json.loads(response.read())

    server_id, leafs = get("/varz")["server_id"], get("/leafz").get("leafs") or []

    async def kick() -> int:
        connection = await nats.connect(nats_url, user=SYSTEM_USER, password=system_password, allow_reconnect=False)
        try:
            for leaf in leafs:
                await connection.request(f"$SYS.REQ.SERVER.{server_id}.KICK", json.dumps({"cid": leaf["id"]}).encode(),
                                         timeout=5)
        finally:
            await connection.close()
        return len(leafs)

    return asyncio.run(kick()) if leafs else 0


# -- leaf credentials at the hub -------------------------------------------------------------------
def credentials_path(hub_settings: Settings, region: str) -> Path:
    return hub_settings.data_dir.resolve() / CREDENTIALS_DIRECTORY / region


def region_credentials(hub_settings: Settings, region: str) -> tuple[str, str]:
    """Region `region`'s leaf-node user and password at the hub: made (random) at first use and kept
    readable by the owner only in the hub's data directory."""
    path = credentials_path(hub_settings, region)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # made meanwhile by another process: read theirs
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(32))
    return leaf_user(region), path.read_text().strip()


def rotate_region_credentials(hub_settings: Settings, region: str) -> tuple[str, str]:
    """A new random password for `region` (the old one stops working once the hub reloads)."""
    write_private(credentials_path(hub_settings, region), secrets.token_urlsafe(32))
    return region_credentials(hub_settings, region)


def known_regions(hub_settings: Settings) -> list[str]:
    """The regions with leaf credentials in the hub's data directory."""
    directory = hub_settings.data_dir.resolve() / CREDENTIALS_DIRECTORY
    return sorted(path.name for path in directory.iterdir()) if directory.is_dir() else []


def hub_leaf_url(hub_settings: Settings) -> str:
    """Where a region on this machine reaches the hub's embedded leaf-node listener."""
    return f"nats-leaf://{hub_settings.host}:{hub_settings.embedded_leaf_port}"


def link_settings(hub_settings: Settings, region: str) -> dict:
    """The settings that link region `region` to this hub (for `load_settings(**...)` / tests)."""
    user, password = region_credentials(hub_settings, region)
    return {"hub_leaf_url": hub_leaf_url(hub_settings), "hub_leaf_user": user, "hub_leaf_password": password}


def share_admin_url(plan) -> str:
    """The region's NATS as the SHARE account's administrator (reads and writes the share stream)."""
    return plan.share_operator_url
