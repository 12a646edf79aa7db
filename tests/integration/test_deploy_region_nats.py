"""deploy/compose/nats.conf run by a real nats-server: the share service creates the share stream in
SHARE as share-admin, its own user's publish of a share subject is stored there and acknowledged,
no other service's user may publish one, and the services' own streams live in COPNET, out of
SHARE's sight (what a linked hub reaches)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import pytest
from copnet.federation_nats import SHARE_ADMIN
from copnet.kernel.federation import share_stream_name, share_subject
from copnet.kernel.settings import SERVICE_NAMES, load_settings
from copnet.share import stream
from copnet.stack import ProcessSpec, executable, free_port, tcp_answers
from nats.errors import TimeoutError as NatsTimeout
from nats.js.errors import NotFoundError

from tests.support.processes import ManagedProcess

CONF = Path(__file__).parents[2] / "deploy" / "compose" / "nats.conf"
REGION = "north"


def password(user: str) -> str:
    return f"{user}-password-for-the-test"


@pytest.fixture
def compose_nats(tmp_path):
    """nats-server with the compose file as shipped, but its ports free and its store in tmp_path."""
    port, monitoring = free_port(), free_port()
    text = (CONF.read_text().replace("port: 4222", f"port: {port}").replace("http_port: 8222", f"http_port: {monitoring}")
            .replace("store_dir: /data", f'store_dir: "{tmp_path / "store"}"'))
    config = tmp_path / "nats.conf"
    config.write_text(text)
    env = {f"COPNET_NATS_PASSWORD_{name.upper()}": password(name) for name in (*SERVICE_NAMES, "operator")}
    env |= {"NATS_SERVER_NAME": f"copnet-{REGION}", "COPNET_REGION": REGION,
            "COPNET_SHARE_NATS_PASSWORD": password(SHARE_ADMIN)}
    spec = ProcessSpec("nats", [executable("nats-server"), "-c", str(config)], env=env,
                       probe=lambda: tcp_answers("127.0.0.1", port), ports=[port])
    process = ManagedProcess(spec, tmp_path).start()
    try:
        yield f"nats://127.0.0.1:{port}"
    finally:
        process.stop()


async def _publish(url: str, user: str, subject: str):
    nc = await nats.connect(url, user=user, password=password(user), allow_reconnect=False)
    try:
        return await nc.jetstream(timeout=2).publish(subject, b"{}")
    finally:
        await nc.close()


async def _streams(url: str, user: str) -> set[str]:
    nc = await nats.connect(url, user=user, password=password(user), allow_reconnect=False)
    try:
        return {info.config.name for info in await nc.jetstream().streams_info()}
    finally:
        await nc.close()


async def _make_events_stream(url: str) -> None:
    nc = await nats.connect(url, user="membership", password=password("membership"), allow_reconnect=False)
    try:
        await nc.jetstream().add_stream(name=f"copnet-events-{REGION}", subjects=[f"copnet.{REGION}.>"])
    finally:
        await nc.close()


def test_the_share_service_publishes_into_the_share_stream_and_no_one_else_does(compose_nats):
    settings = load_settings(region=REGION, nats_url=compose_nats, share_nats_user=SHARE_ADMIN,
                             share_nats_password=password(SHARE_ADMIN))
    stream.ensure_share_stream(settings)  # what the share service does at start

    ack = asyncio.run(_publish(compose_nats, "share", share_subject(REGION, "measures")))
    assert ack.stream == share_stream_name(REGION)

    with pytest.raises(NatsTimeout):  # a permissions violation: the server drops it, nothing answers
        asyncio.run(_publish(compose_nats, "membership", share_subject(REGION, "catalog")))
    assert stream.stream_messages(settings) == 1


def test_the_services_streams_are_in_copnet_out_of_the_share_accounts_sight(compose_nats):
    asyncio.run(_make_events_stream(compose_nats))
    assert asyncio.run(_streams(compose_nats, "operator")) == {f"copnet-events-{REGION}"}
    assert asyncio.run(_streams(compose_nats, SHARE_ADMIN)) == set()

    async def events_from_share() -> None:
        nc = await nats.connect(compose_nats, user=SHARE_ADMIN, password=password(SHARE_ADMIN), allow_reconnect=False)
        try:
            await nc.jetstream().stream_info(f"copnet-events-{REGION}")
        finally:
            await nc.close()

    with pytest.raises(NotFoundError):
        asyncio.run(events_from_share())
