"""A statewide hub and its regions as real processes, for the federation tests and benchmark.

Each instance is a `RunningStack` of its own (its own nats-server, MongoDB-wire server, services,
data directory and free ports), made from exactly the settings `copnet up --hub` and a linked
region's `copnet up` would read. A region reaches the hub's leaf-node port through a `LinkProxy`
of this process, so a test can take the link down (every connection dropped, new ones refused)
and bring it back while both sides keep running; stopping the hub's nats-server is the other way
an outage happens. `Federation.stop` leaves no process behind.

Reading what was shared: `share_stream_messages` / `shared_versions` (the region's share stream,
read as its SHARE account's administrator), `hub_documents` / `hub_history` (what the hub's
statewide service stored), `missing_at_hub` (what the region shared that the hub has not applied)
and `HubCapture` (every message the hub's account sees while it runs: whatever crossed the link
is among them). `publish_to_share_stream` puts a message straight into a region's share stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nats
import pymongo
from copnet import federation_nats
from copnet import stack as stacklib
from copnet.kernel.federation import STATEWIDE_STREAM, share_stream_name
from copnet.share.client import SHARE
from copnet.share.v1 import share_pb2
from copnet.share.v1.share_pb2_grpc import ShareServiceStub
from copnet.statewide.client import STATEWIDE
from copnet.statewide.v1.statewide_pb2_grpc import StatewideServiceStub
from google.protobuf import json_format
from nats.js.errors import NotFoundError

from tests.support.stack import RunningStack, settings_for_tests

HUB = "hub"
HEALTH_CHECKS = ("", "copnet.dependency.mongodb", "copnet.dependency.nats")


class FederatedStack(RunningStack):
    """A hub or a region: a RunningStack that may run only some of its services (a region for the
    bad-input tests needs only its share service) and knows the hub's service too."""

    def __init__(self, settings, log_dir: Path, services: Sequence[str] | None = None):
        super().__init__(settings, log_dir)
        self.service_names = tuple(services) if services is not None else settings.service_names

    def statewide(self, token: str | None = None) -> StatewideServiceStub:
        return self.clients.stub(STATEWIDE, token=token)

    def share(self, token: str | None = None) -> ShareServiceStub:
        return self.clients.stub(SHARE, token=token)

    def start_services(self) -> FederatedStack:
        for spec in self.plan.services:
            if spec.name in self.service_names:
                self._start(spec)
        self.wait_until_healthy()
        return self

    def start_process(self, name: str) -> None:
        """Start again a process stopped with `stop_process` (same command, ports and data)."""
        self.processes[name].start()

    def wait_until_healthy(self) -> None:
        """Every service this stack runs SERVING, with MongoDB and NATS reported up."""
        for service in self.service_names:
            for check in HEALTH_CHECKS:
                self.wait_for(lambda s=service, c=check: self.clients[s].health_status(c) == "SERVING", 60,
                              f"{service} health {check or 'overall'}")

    @property
    def database(self) -> str:
        return self.settings.database_name("statewide")


class LinkProxy:
    """The network between a region and the hub: a TCP forwarder to the hub's leaf-node port.

    `cut()` drops every connection through it and refuses new ones until `restore()`, as a WAN
    outage would (the hub and the region both keep running and cannot reach each other)."""

    def __init__(self, target_port: int, host: str = "127.0.0.1"):
        self.target = (host, target_port)
        self.listener = socket.create_server((host, stacklib.free_port(host)))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.up = threading.Event()
        self.up.set()
        self._closing = False
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._threads = [threading.Thread(target=self._accept, name=f"link-{self.port}", daemon=True)]
        self._threads[0].start()

    def url(self) -> str:
        return f"nats-leaf://{self.target[0]}:{self.port}"

    def cut(self) -> None:
        self.up.clear()
        self._drop_all()

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self._closing = True
        self.cut()
        self.listener.close()
        for thread in self._threads:
            thread.join(5)

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.up.is_set():
                client.close()  # unreachable: the far end sees its connection fail at once
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                client.close()
                continue
            # Blocking from here on: a quiet link is not a broken one.
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                thread = threading.Thread(target=self._pump, args=(source, sink), daemon=True)
                thread.start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
        with self._lock:
            for end in (source, sink):
                if end in self._sockets:
                    self._sockets.discard(end)
                    end.close()

    def _drop_all(self) -> None:
        with self._lock:
            dropping, self._sockets = self._sockets, set()
        for end in dropping:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()


@dataclass
class Federation:
    """A hub and its regions under `root` (one directory each); start the hub first."""

    root: Path
    region_names: tuple[str, ...]
    hub_overrides: dict = field(default_factory=dict)
    region_overrides: dict = field(default_factory=dict)
    hub: FederatedStack | None = None
    regions: dict[str, FederatedStack] = field(default_factory=dict)
    links: dict[str, LinkProxy] = field(default_factory=dict)

    def start_hub(self, services: bool = True, gateway: bool = False) -> FederatedStack:
        """The hub's nats-server and database, then (unless `services` is False: start them with
        `start_hub_services` once the regions are linked) its statewide service."""
        directory = self.root / HUB
        settings = settings_for_tests(directory / "data", instance="hub", region=HUB,
                                      hub_regions=",".join(self.region_names),
                                      statewide_port=stacklib.free_port(), embedded_leaf_port=stacklib.free_port(),
                                      **self.hub_overrides)
        self.hub = FederatedStack(settings, directory)
        self.hub.start_infrastructure()
        if services:
            self.start_hub_services(gateway)
        return self.hub

    def start_hub_services(self, gateway: bool = False) -> FederatedStack:
        self.hub.start_services()
        if gateway:
            self.hub.start_gateway()
        return self.hub

    def linked_regions(self) -> set[str]:
        """The regions whose leaf node is connected to the hub's nats-server now (its monitor)."""
        hub = self.hub.settings
        status, body = stacklib.http_get(f"http://{hub.host}:{hub.embedded_nats_monitor_port}/leafz")
        leafs = (json.loads(body).get("leafs") or []) if status == 200 else []
        return {leaf["name"].removeprefix("copnet-") for leaf in leafs}

    def wait_until_linked(self, region: str, timeout: float = 30) -> None:
        wait_until(lambda: region in self.linked_regions(), timeout, f"{region}'s leaf connection at the hub")

    def start_region(self, region: str, services: Sequence[str] | None = None, gateway: bool = True,
                     **overrides) -> FederatedStack:
        """Region `region`, linked to the hub through a LinkProxy of its own."""
        assert self.hub is not None, "start the hub first"
        link = self.links[region] = LinkProxy(self.hub.settings.embedded_leaf_port, self.hub.settings.host)
        user, password = federation_nats.region_credentials(self.hub.settings, region)
        directory = self.root / region
        settings = settings_for_tests(directory / "data", region=region, hub_leaf_url=link.url(),
                                      hub_leaf_user=user, hub_leaf_password=password,
                                      **{**self.region_overrides, **overrides})
        stack = self.regions[region] = FederatedStack(settings, directory, services)
        stack.start_infrastructure().start_services()
        if gateway:
            stack.start_gateway()
        return stack

    def stop(self) -> None:
        """Every process of every instance, and the links; each even if stopping another failed."""
        with contextlib.ExitStack() as stopping:
            for link in self.links.values():
                stopping.callback(link.close)
            # The instances together: each stack's database takes seconds to shut down cleanly.
            instances = [*self.regions.values(), *([self.hub] if self.hub is not None else [])]
            with ThreadPoolExecutor(max(1, len(instances))) as pool:
                stopped = [pool.submit(instance.stop) for instance in instances]
            for future in stopped:
                stopping.callback(future.result)  # each raises its own failure, after all have stopped


@contextlib.contextmanager
def running_federation(root: Path, regions: Sequence[str] = ("north",), region_services: Sequence[str] | None = None,
                       region_gateways: bool = True, before_regions: Callable[[Federation], None] | None = None,
                       **kwargs) -> Iterator[Federation]:
    """A hub and `regions`, each region linked; everything stopped afterwards, whatever happened.

    The hub's statewide service starts once the regions are linked: its stream's sources then ask
    each region for its records at once (a source asked before its region's leaf node is up waits
    for an answer that cannot come, then backs off: tens of seconds). `before_regions(federation)`
    runs once the hub's nats-server is up, before anything links (e.g. a HubCapture)."""
    federation = Federation(Path(root), tuple(regions), **kwargs)
    try:
        federation.start_hub(services=False)
        if before_regions is not None:
            before_regions(federation)
        for region in federation.region_names:
            federation.start_region(region, services=region_services, gateway=region_gateways)
            federation.wait_until_linked(region)
        federation.start_hub_services()
        yield federation
    finally:
        federation.stop()


# -- reading what was shared -----------------------------------------------------------------------
def share_admin_url(region: FederatedStack) -> str:
    """The region's NATS as its SHARE account's administrator: the only one who may read (and, for
    the bad-input tests, write) the share stream directly."""
    return federation_nats.share_admin_url(region.plan)


@dataclass(frozen=True)
class ShareMessage:
    stream_sequence: int
    subject: str
    headers: dict[str, str]
    data: bytes

    def record(self) -> share_pb2.SharedRecord:
        """The SharedRecord the message carries (a CloudEvent's data: the record as protobuf JSON)."""
        return json_format.Parse(self.data, share_pb2.SharedRecord())


def read_stream(url: str, stream: str) -> list[ShareMessage]:
    """Every message `stream` keeps, oldest first, with its headers and bytes as stored."""

    async def go() -> list[ShareMessage]:
        connection = await nats.connect(url)
        try:
            js = connection.jetstream()
            state = (await js.stream_info(stream)).state
            found = []
            if state.messages:
                for sequence in range(state.first_seq, state.last_seq + 1):
                    try:
                        message = await js.get_msg(stream, sequence)
                    except NotFoundError:
                        continue
                    found.append(ShareMessage(sequence, message.subject, dict(message.headers or {}),
                                              message.data or b""))
            return found
        finally:
            await connection.close()

    return asyncio.run(go())


def share_stream_messages(region: FederatedStack) -> list[ShareMessage]:
    return read_stream(share_admin_url(region), share_stream_name(region.settings.region))


def statewide_stream_messages(hub: FederatedStack) -> list[ShareMessage]:
    return read_stream(hub.nats_url, STATEWIDE_STREAM)


def share_stream_records(region: FederatedStack) -> list[share_pb2.SharedRecord]:
    return [message.record() for message in share_stream_messages(region)]


def publish_to_share_stream(region: FederatedStack, subject: str, data: bytes,
                            headers: dict[str, str] | None = None) -> int:
    """Put a message straight into the region's share stream as its SHARE administrator (what a
    bug or an intruder upstream of the share service could do); its stream sequence."""

    async def go() -> int:
        connection = await nats.connect(share_admin_url(region))
        try:
            ack = await connection.jetstream().publish(subject, data, headers=headers or None,
                                                       stream=share_stream_name(region.settings.region), timeout=5)
            return ack.seq
        finally:
            await connection.close()

    return asyncio.run(go())


def hub_documents(hub: FederatedStack, collection: str, query: dict | None = None) -> list[dict]:
    """Documents the hub's statewide service stored (statewide/models.py names the collections)."""
    with pymongo.MongoClient(hub.mongodb_uri, serverSelectionTimeoutMS=5000, tz_aware=True) as client:
        return list(client[hub.database][collection].find(query or {}))


def every_hub_document(hub: FederatedStack) -> dict[str, list[dict]]:
    """collection -> every document of the hub's statewide database (state, history, refusals,
    the views' read models)."""
    with pymongo.MongoClient(hub.mongodb_uri, serverSelectionTimeoutMS=5000, tz_aware=True) as client:
        database = client[hub.database]
        return {name: list(database[name].find()) for name in database.list_collection_names()}


Entity = tuple[str, str]  # (kind, key) within one region


def shared_versions(region: FederatedStack) -> dict[Entity, dict[int, share_pb2.SharedRecord]]:
    """(kind, key) -> version -> record, as the region's share stream holds them (the first
    message of each version; messages that are no SharedRecord, put there by a test, left out)."""
    found: dict[Entity, dict[int, share_pb2.SharedRecord]] = defaultdict(dict)
    for message in share_stream_messages(region):
        try:
            record = message.record()
        except json_format.ParseError:
            continue
        found[(record.kind, record.key)].setdefault(record.version, record)
    return dict(found)


def hub_history(hub: FederatedStack, region: str) -> dict[Entity, list[dict]]:
    """(kind, key) -> every version the hub applied for `region` (by the link), in version order."""
    found: dict[Entity, list[dict]] = defaultdict(list)
    for doc in hub_documents(hub, "shared_history", {"region": region}):
        found[(doc["kind"], doc["key"])].append(doc)
    return {entity: sorted(docs, key=lambda doc: doc["version"]) for entity, docs in found.items()}


def missing_at_hub(federation: Federation, region: str) -> set[tuple[str, str, int]]:
    """(kind, key, version) the region's share stream holds that the hub has not applied."""
    history = hub_history(federation.hub, region)
    applied = {(kind, key, doc["version"]) for (kind, key), docs in history.items() for doc in docs}
    return {(kind, key, version) for (kind, key), versions in shared_versions(federation.regions[region]).items()
            for version in versions} - applied


@dataclass(frozen=True)
class CapturedMessage:
    subject: str
    reply: str
    headers: dict[str, str]
    data: bytes


class HubCapture:
    """Every message published in the hub's account while it runs (subscribed to `>` as the hub's
    operator): whatever crossed the link from a region is among them. Start it before the regions
    link, stop it once they are done."""

    def __init__(self, hub: FederatedStack):
        self.url = hub.nats_url
        self.messages: list[CapturedMessage] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="hub-capture", daemon=True)
        self._connection: nats.NATS | None = None

    def start(self) -> HubCapture:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._subscribe(), self._loop).result(10)
        return self

    async def _subscribe(self) -> None:
        self._connection = await nats.connect(self.url, max_reconnect_attempts=-1)

        async def keep(message) -> None:
            self.messages.append(CapturedMessage(message.subject, message.reply or "", dict(message.headers or {}),
                                                 message.data or b""))

        # A big pending limit: a slow test process must not make the server drop what it captures.
        await self._connection.subscribe(">", cb=keep, pending_msgs_limit=10_000_000,
                                         pending_bytes_limit=2 * 1024 ** 3)
        await self._connection.flush()

    def stop(self) -> list[CapturedMessage]:
        async def close() -> None:
            await self._connection.flush()
            await asyncio.sleep(0.2)  # the callbacks of what the flush brought in
            await self._connection.drain()

        try:
            asyncio.run_coroutine_threadsafe(close(), self._loop).result(30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        return list(self.messages)


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.2) -> None:
    """Poll `predicate` (never a fixed sleep); TimeoutError naming `what`."""
    stacklib.wait_until(lambda: bool(predicate()), timeout, what, interval=interval)
