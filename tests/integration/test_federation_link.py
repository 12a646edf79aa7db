"""The leaf-node link between regions and the hub, with real nats-servers configured exactly as
`copnet up` / `copnet up --hub` configure them (copnet.stack.nats_spec, copnet.federation_nats):
what crosses (share records, through the statewide stream's source), what never does (the
services' events and dead letters) and who may administer whose JetStream. Outages (the link
cut, the hub restarted) are proved end to end, with the services, in test_federation_reliability.py:
a hub restart costs about 40 s of nats-server's own back-off, paid once in the suite.

Three regions link to the hub: north and south as configured, and west as a compromised region
would be: its nats-server without its deny lists (the hub's own permissions must hold alone).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

import nats
import pytest
from copnet import federation_nats
from copnet import stack as stacklib
from copnet.cli.root import app as cli
from copnet.kernel.federation import STATEWIDE_STREAM, share_stream_name, share_subject
from copnet.kernel.settings import Settings, load_settings
from copnet.share.stream import share_stream_config
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NoStreamResponseError
from typer.testing import CliRunner

from tests.support.processes import ManagedProcess

pytestmark = pytest.mark.integration

SECRET = "federation-link-tests-secret-0123456789"
REGIONS = ("north", "south")
ROGUE = "west"
NO_ANSWER = (nats.errors.NoRespondersError, nats.errors.TimeoutError, asyncio.TimeoutError)


@dataclass
class Server:
    settings: Settings
    process: ManagedProcess
    url: str

    def as_user(self, user: str, password: str | None = None) -> str:
        return stacklib.with_credentials(self.url, user, password or stacklib.nats_password(SECRET, user))

    @property
    def operator(self) -> str:
        return self.as_user(stacklib.NATS_OPERATOR)

    @property
    def share_admin(self) -> str:
        return self.as_user(federation_nats.SHARE_ADMIN, stacklib.share_admin_password(SECRET))

    @property
    def share_service(self) -> str:
        return self.as_user(stacklib.SHARE_SERVICE)


def ports() -> dict:
    return {"embedded_nats_port": stacklib.free_port(), "embedded_nats_monitor_port": stacklib.free_port()}


def start_server(settings: Settings, log_dir: Path) -> Server:
    spec, url = stacklib.nats_spec(settings, SECRET)
    spec.name = f"nats-{settings.region}"
    return Server(settings, ManagedProcess(spec, log_dir).start(), url)


def without_deny_lists(settings: Settings) -> None:
    """Rewrite the server's configuration as a compromised region would run it: no deny lists."""
    config = federation_nats.region_config(settings, settings.data_dir.resolve() / "nats",
                                           stacklib.nats_users(settings.region, SECRET),
                                           stacklib.share_admin_password(SECRET))
    for remote in config["leafnodes"]["remotes"]:
        remote.pop("deny_imports"), remote.pop("deny_exports")
    federation_nats.write_private(settings.data_dir.resolve() / "nats.conf", federation_nats.render(config))


def run(coroutine):
    return asyncio.run(coroutine)


@contextlib.asynccontextmanager
async def connected(url: str):
    connection = await nats.connect(url, allow_reconnect=False)
    try:
        yield connection
    finally:
        await connection.close()


async def answers(url: str, subject: str, payload: bytes = b"", reply: str = "") -> bytes | None:
    """The reply to a request on `subject`, or None when nothing answers. `reply`: a subject the
    answer may travel back on across the link (the leaf users' permissions let through answers on
    `$JSC.R.>` to the hub and flow control `$JS.FC.<region>.>` to a region, not `_INBOX.>`)."""
    async with connected(url) as connection:
        if not reply:
            try:
                return (await connection.request(subject, payload, timeout=1.5)).data
            except NO_ANSWER:
                return None
        subscription = await connection.subscribe(reply, max_msgs=1)
        await connection.flush()
        await asyncio.sleep(0.3)  # the subscription's interest crosses the link
        await connection.publish(subject, payload, reply=reply)
        try:
            answer = await subscription.next_msg(timeout=1.5)
        except NO_ANSWER:
            return None
        # the hub's own server saying that nothing took the request ("503 no responders")
        return None if (answer.headers or {}).get("Status") == "503" else answer.data


_probes = iter(range(1, 10**9))


def back_to_hub() -> str:
    return f"$JSC.R.linkprobe{next(_probes)}"


def back_to(region: str) -> str:
    return f"$JS.FC.{region}.linkprobe{next(_probes)}"


async def stream_messages(url: str, stream: str, api_prefix: str | None = None) -> int:
    async with connected(url) as connection:
        js = connection.jetstream(prefix=api_prefix) if api_prefix else connection.jetstream()
        return (await js.stream_info(stream)).state.messages


async def statewide_messages(url: str) -> list:
    async with connected(url) as connection:
        js = connection.jetstream()
        state = (await js.stream_info(STATEWIDE_STREAM)).state
        return [await js.get_msg(STATEWIDE_STREAM, seq) for seq in range(state.first_seq, state.last_seq + 1)
                if state.messages]


async def publish_share(region: Server, kind: str, data: bytes, msg_id: str):
    async with connected(region.share_service) as connection:
        return await connection.jetstream().publish(share_subject(region.settings.region, kind), data,
                                                    headers={"Nats-Msg-Id": msg_id}, timeout=5)


def collector(into: list[str]):
    async def keep(message) -> None:
        into.append(message.subject)

    return keep


def wait_for(predicate, what: str, timeout: float = 30) -> None:
    stacklib.wait_until(lambda: bool(predicate()), timeout, what, interval=0.2)


@dataclass
class Link:
    hub: Server
    regions: dict[str, Server]
    root: Path

    def arrived(self, region: str) -> list:
        """The statewide stream's messages sourced from `region`'s share stream."""
        origin = share_stream_name(region)
        return [message for message in run(statewide_messages(self.hub.operator))
                if message.headers.get("Nats-Stream-Source", "").split(":")[0] == origin]


@pytest.fixture(scope="module")
def link(tmp_path_factory) -> Link:
    root = tmp_path_factory.mktemp("federation-link")
    hub_settings = load_settings(data_dir=root / "hub", secret=SECRET, instance="hub", region="hub",
                                 hub_regions=",".join([*REGIONS, ROGUE]), embedded_leaf_port=stacklib.free_port(),
                                 **ports())
    started: list[Server] = []
    try:
        hub = start_server(hub_settings, root)
        started.append(hub)
        regions = {}
        for name in (*REGIONS, ROGUE):
            settings = load_settings(data_dir=root / name, secret=SECRET, region=name, **ports(),
                                     **federation_nats.link_settings(hub_settings, name))
            spec, url = stacklib.nats_spec(settings, SECRET)
            if name == ROGUE:
                without_deny_lists(settings)
            spec.name = f"nats-{name}"
            regions[name] = Server(settings, ManagedProcess(spec, root).start(), url)
            started.append(regions[name])

        async def setup() -> None:
            for server in regions.values():
                async with connected(server.share_admin) as connection:
                    await connection.jetstream().add_stream(share_stream_config(server.settings))
                async with connected(server.operator) as connection:  # the services' own streams
                    region = server.settings.region
                    await connection.jetstream().add_stream(StreamConfig(
                        name=f"copnet-events-{region}", subjects=[f"copnet.{region}.>"], storage=StorageType.FILE))
                    await connection.jetstream().add_stream(StreamConfig(
                        name=f"copnet-deadletter-{region}", subjects=[f"copnet-dlq.{region}.>"]))
            async with connected(hub.operator) as connection:
                await connection.jetstream().add_stream(StreamConfig(
                    name=STATEWIDE_STREAM, storage=StorageType.FILE,
                    sources=[federation_nats.statewide_source(name) for name in regions]))

        # The leaf connections come up shortly after the servers do.
        wait_for(lambda: all("Leafnode connection created" in (root / f"nats-{name}.log").read_text()
                             for name in regions), "every region's leaf-node link")
        run(setup())
        yield Link(hub, regions, root)
    finally:
        for server in reversed(started):
            server.process.stop()


# -- what crosses --------------------------------------------------------------------------------
def test_a_share_record_reaches_the_hub_through_the_source_with_its_origin_named(link):
    north = link.regions["north"]
    ack = run(publish_share(north, "measures", b'{"figure": 1}', "crosses-1"))
    assert ack.stream == share_stream_name("north")  # acknowledged by the share stream (SHARE), not COPNET

    wait_for(lambda: [m for m in link.arrived("north") if m.data == b'{"figure": 1}'], "the record at the hub")
    message = next(m for m in link.arrived("north") if m.data == b'{"figure": 1}')
    assert message.subject == "copnet-share.north.measures"
    origin = message.headers["Nats-Stream-Source"].split()
    assert origin[0].split(":")[0] == "copnet-share-north"
    assert int(origin[1]) == ack.seq  # the sequence in the region's share stream


def test_only_the_share_service_publishes_share_subjects(link):
    north = link.regions["north"]

    async def as_membership() -> bool:
        errors = []

        async def on_error(error):
            errors.append(error)

        connection = await nats.connect(north.as_user("membership"), error_cb=on_error, allow_reconnect=False)
        try:
            await connection.jetstream().publish(share_subject("north", "catalog"), b"forged", timeout=1.5)
            return True
        except NO_ANSWER:
            return False
        finally:
            await connection.close()

    before = run(stream_messages(north.share_admin, share_stream_name("north")))
    assert not run(as_membership())
    assert run(stream_messages(north.share_admin, share_stream_name("north"))) == before


def test_the_share_stream_refuses_a_subject_that_is_not_a_share_kind(link):
    north = link.regions["north"]

    async def publish_roster() -> None:
        async with connected(north.share_service) as connection:
            await connection.jetstream().publish("copnet-share.north.roster", b"names", timeout=1.5)

    before = run(stream_messages(north.share_admin, share_stream_name("north")))
    with pytest.raises((NoStreamResponseError, *NO_ANSWER)):
        run(publish_roster())
    assert run(stream_messages(north.share_admin, share_stream_name("north"))) == before


def test_no_service_event_or_dead_letter_reaches_the_hub(link):
    north = link.regions["north"]
    seen: list[str] = []

    async def go() -> None:
        async with connected(link.hub.operator) as hub:
            await hub.subscribe("copnet.>", cb=collector(seen))
            await hub.subscribe("copnet-dlq.>", cb=collector(seen))
            await hub.flush()
            async with connected(north.operator) as region:
                js = region.jetstream()
                assert (await js.publish("copnet.north.membership.person.created", b"a person")).stream
                assert (await js.publish("copnet-dlq.north.membership.consumer", b"dead")).stream
                await region.publish("copnet.north.reflection.rows", b"core publish")
                await region.flush()
            async with connected(north.share_admin) as share:  # even from the leaf-bound account
                await share.publish("copnet.north.reflection.rows", b"from SHARE")
                await share.publish("copnet-dlq.north.x", b"from SHARE")
                await share.flush()
            await asyncio.sleep(1.0)  # a message that crossed would be here by now
            await hub.flush()

    run(go())
    assert seen == []


# -- who may do what across the link -------------------------------------------------------------
def test_the_hub_sees_only_the_share_stream_and_cannot_administer_it(link):
    hub = link.hub.operator
    names = run(answers(hub, "$JS.north.API.STREAM.NAMES", reply=back_to_hub()))
    assert names is not None and b'"streams":["copnet-share-north"]' in names  # no COPNET stream
    stream = share_stream_name("north")
    assert run(answers(hub, f"$JS.north.API.STREAM.INFO.{stream}", reply=back_to_hub())) is not None
    before = run(stream_messages(link.regions["north"].share_admin, stream))
    assert before > 0
    for action in ("DELETE", "PURGE", "UPDATE", "CREATE"):
        assert run(answers(hub, f"$JS.north.API.STREAM.{action}.{stream}", b"{}", reply=back_to_hub())) is None
    assert run(answers(hub, f"$JS.north.API.STREAM.MSG.DELETE.{stream}", b'{"seq":1}', reply=back_to_hub())) is None
    assert run(stream_messages(link.regions["north"].share_admin, stream)) == before
    # Without an answer subject the leaf users let through, nothing at the hub gets one at all.
    assert run(answers(hub, "$JS.north.API.STREAM.NAMES")) is None


def test_the_hub_cannot_inject_into_a_regions_share_subjects(link):
    north = link.regions["north"]
    before = run(stream_messages(north.share_admin, share_stream_name("north")))

    async def inject() -> None:
        async with connected(link.hub.operator) as hub:
            await hub.publish(share_subject("north", "measures"), b"forged by the hub")
            await hub.flush()
            with contextlib.suppress(*NO_ANSWER):
                await hub.request(share_subject("north", "catalog"), b"forged", timeout=1.5)

    run(inject())
    assert run(stream_messages(north.share_admin, share_stream_name("north"))) == before


@pytest.mark.parametrize("region", [*REGIONS, ROGUE])
def test_a_region_cannot_administer_the_hub_nor_reach_another_region(link, region):
    """From the region's leaf-bound account; `west` runs without its deny lists, so for it only the
    hub's permissions on its leaf user stand in the way."""
    admin = link.regions[region].share_admin
    other = next(name for name in REGIONS if name != region)
    run(publish_share(link.regions[other], "cycles", b"{}", f"before-{region}"))
    wait_for(lambda: link.arrived(other), "a record of the other region at the hub")
    statewide = run(stream_messages(link.hub.operator, STATEWIDE_STREAM))
    others = run(stream_messages(link.regions[other].share_admin, share_stream_name(other)))
    for subject in (f"$JS.hub.API.STREAM.DELETE.{STATEWIDE_STREAM}", f"$JS.hub.API.STREAM.PURGE.{STATEWIDE_STREAM}",
                    "$JS.hub.API.STREAM.NAMES", "$JS.hub.API.INFO",
                    f"$JS.{other}.API.STREAM.INFO.{share_stream_name(other)}",
                    f"$JS.{other}.API.STREAM.MSG.GET.{share_stream_name(other)}",
                    f"$JS.{other}.API.STREAM.PURGE.{share_stream_name(other)}"):
        payload = b'{"seq":1}' if ".MSG.GET." in subject else b""
        assert run(answers(admin, subject, payload, reply=back_to(region))) is None, subject
        assert run(answers(admin, subject, payload)) is None, subject
    assert run(stream_messages(link.hub.operator, STATEWIDE_STREAM)) == statewide  # neither deleted nor purged
    assert run(stream_messages(link.regions[other].share_admin, share_stream_name(other))) == others


def test_a_compromised_region_cannot_publish_what_the_hub_stores(link):
    rogue = link.regions[ROGUE]
    seen: list[tuple[str, bytes]] = []

    async def keep(message) -> None:
        seen.append((message.subject, message.data))

    async def go() -> None:
        async with connected(link.hub.operator) as hub:
            await hub.subscribe(">", cb=keep)
            await hub.flush()
            async with connected(rogue.share_admin) as connection:
                for subject in ("copnet-share.north.measures", "copnet-share.west.measures",
                                "copnet.hub.statewide.applied", "copnet-deliver.north.S.forged",
                                "copnet-deliver.south.x", "$JS.hub.API.STREAM.NAMES", "anything.else"):
                    await connection.publish(subject, b"forged by west")
                await connection.flush()
            await asyncio.sleep(1.0)
            await hub.flush()

    before = len(link.arrived(ROGUE))
    run(go())
    # Its own share subject went into its share stream and came through the source (the hub
    # ingests a sourced message on its subject: a subscriber there sees it); nothing else arrived.
    assert [subject for subject, data in seen if data == b"forged by west"] == ["copnet-share.west.measures"]
    wait_for(lambda: len(link.arrived(ROGUE)) == before + 1, "west's own record through its source")
    assert [m.subject for m in link.arrived(ROGUE)][before:] == ["copnet-share.west.measures"]


# -- the deploy/ configurations ------------------------------------------------------------------
def test_the_deploy_configs_link_a_region_to_the_hub_over_tls(tmp_path):
    """deploy/nats/hub.conf and leafnode-hub-link.conf as shipped (ports, paths and a throwaway CA
    swapped in, passwords from the environment): the link works over TLS and keeps its limits."""
    path = Path(__file__).parents[2] / "deploy" / "nats" / "check_hub_link.py"
    spec = importlib.util.spec_from_file_location("check_hub_link", path)
    check_hub_link = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check_hub_link)
    assert check_hub_link.run_checks(tmp_path) == []


# -- rotating a region's credentials ---------------------------------------------------------------
def leafs(server: Server) -> int:
    status, body = stacklib.http_get(f"http://127.0.0.1:{server.settings.embedded_nats_monitor_port}/leafz")
    return len(json.loads(body).get("leafs") or []) if status == 200 else -1


def test_rotating_a_regions_credentials_drops_its_link_until_it_has_the_new_password(tmp_path):
    hub_values = {"COPNET_INSTANCE": "hub", "COPNET_REGION": "hub", "COPNET_HUB_REGIONS": "east",
                  "COPNET_SECRET": SECRET, "COPNET_DATA_DIR": str(tmp_path / "hub"),
                  "COPNET_EMBEDDED_LEAF_PORT": str(stacklib.free_port()),
                  **{f"COPNET_{name.upper()}": str(port) for name, port in ports().items()}}
    hub_settings = load_settings(**{key.removeprefix("COPNET_").lower(): value for key, value in hub_values.items()})
    runner = CliRunner()
    added = runner.invoke(cli, ["hub", "region", "add", "east"], env=hub_values)
    assert added.exit_code == 0, added.output
    assert "region-east" in added.output and "copnet-deliver.east.>" in added.output
    hub = start_server(hub_settings, tmp_path)
    region = None
    try:
        def start_region() -> Server:
            settings = load_settings(data_dir=tmp_path / "east", secret=SECRET, region="east", **region_ports,
                                     **federation_nats.link_settings(hub_settings, "east"))
            return start_server(settings, tmp_path)

        region_ports = ports()
        region = start_region()
        wait_for(lambda: leafs(hub) == 1, "east's link")
        old = federation_nats.region_credentials(hub_settings, "east")

        rotated = runner.invoke(cli, ["hub", "region", "rotate", "east"], env=hub_values)
        assert rotated.exit_code == 0, rotated.output
        assert "reloaded its users" in rotated.output
        new = federation_nats.region_credentials(hub_settings, "east")
        assert new[1] != old[1] and f"COPNET_HUB_LEAF_PASSWORD={new[1]}" in rotated.output
        wait_for(lambda: leafs(hub) == 0, "the old password's link dropped")
        wait_for(lambda: "Authorization Violation" in (tmp_path / "nats-east.log").read_text(),
                 "the region refused with its old password")
        assert leafs(hub) == 0

        region.process.stop()  # the region's side: the new password, and its NATS restarted
        region = start_region()
        wait_for(lambda: leafs(hub) == 1, "east linked again with the new password")
    finally:
        if region is not None:
            region.process.stop()
        hub.process.stop()
