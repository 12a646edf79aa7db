"""A whole running copnet stack for integration tests (real servers, real processes)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from copnet import seed
from copnet import stack as stacklib
from copnet.kernel import auth, token_keys
from copnet.kernel.clients import Clients
from copnet.kernel.settings import SERVICE_NAMES, Settings, load_settings
from copnet.membership.client import MEMBERSHIP
from copnet.membership.v1.membership_pb2_grpc import MembershipServiceStub
from copnet.plugins.client import PLUGINS
from copnet.plugins.v1.plugins_pb2_grpc import PluginServiceStub
from copnet.reflection.client import REFLECTION
from copnet.reflection.v1.reflection_pb2_grpc import ReflectionServiceStub
from copnet.resources.client import RESOURCES
from copnet.resources.v1.resources_pb2_grpc import ResourcesServiceStub
from copnet.scheduling.client import SCHEDULING
from copnet.scheduling.v1.scheduling_pb2_grpc import SchedulingServiceStub

from tests.support.processes import ManagedProcess

TEST_SECRET = "integration-tests-secret-0123456789abcdef"


def settings_for_tests(data_dir: Path, **overrides) -> Settings:
    """Settings on free ports in a temp dir; services see exactly these through their environment.

    The token keys are made in the data directory (as `copnet up` makes them), so the test process
    verifies what the stack verifies (the public keys) and issues people's tokens (the issuer key)."""
    ports = {f"{name}_port": stacklib.free_port() for name in SERVICE_NAMES}
    keys = token_keys.make_key_set(Path(data_dir).resolve() / token_keys.LOCAL_DIRECTORY, SERVICE_NAMES)
    values = dict(
        token_public_keys_file=keys.public, token_issuer_key_file=keys.issuer,
        data_dir=data_dir, region="test", secret=TEST_SECRET, host="127.0.0.1",
        gateway_port=stacklib.free_port(), embedded_mongodb_port=stacklib.free_port(),
        embedded_nats_port=stacklib.free_port(), embedded_nats_monitor_port=stacklib.free_port(),
        outbox_sweep_seconds=1.0, max_deliver=3, ack_wait_seconds=5.0, gateway_workers=2,
        # The tests' SMTP servers and webhook receivers listen on loopback.
        plugin_allowed_networks="127.0.0.0/8,::1/128",
        **ports,
    )
    values.update(overrides)
    return load_settings(**values)


class RunningStack:
    def __init__(self, settings: Settings, log_dir: Path, extra_pythonpath: Sequence[Path] = ()):
        self.settings = settings
        self.log_dir = log_dir
        self.plan = stacklib.plan(settings)
        self.env = self.plan.env
        if extra_pythonpath:
            # Every process gets it: e.g. a plugin made importable (with its dist-info, so its
            # entry point is found) without installing it into the venv.
            paths = [str(path) for path in extra_pythonpath]
            for env in [self.env, *(spec.env for spec in self.plan.all if spec.env is not self.env)]:
                env["PYTHONPATH"] = os.pathsep.join([*paths, *filter(None, [env.get("PYTHONPATH")])])
        self.processes: dict[str, ManagedProcess] = {}
        self.clients = Clients(settings)
        self.gateway_url = stacklib.gateway_url(settings)

    # -- each service's stub, called with `token` (none: anonymous) ------------------------------
    def membership(self, token: str | None = None) -> MembershipServiceStub:
        return self.clients.stub(MEMBERSHIP, token=token)

    def scheduling(self, token: str | None = None) -> SchedulingServiceStub:
        return self.clients.stub(SCHEDULING, token=token)

    def resources(self, token: str | None = None) -> ResourcesServiceStub:
        return self.clients.stub(RESOURCES, token=token)

    def reflection(self, token: str | None = None) -> ReflectionServiceStub:
        return self.clients.stub(REFLECTION, token=token)

    def plugins(self, token: str | None = None) -> PluginServiceStub:
        return self.clients.stub(PLUGINS, token=token)

    # -- life cycle ---------------------------------------------------------------------------
    def start_infrastructure(self) -> "RunningStack":
        for spec in self.plan.infrastructure:
            self._start(spec)
        return self

    def start_services(self) -> "RunningStack":
        for spec in self.plan.services:
            self._start(spec)
        self.wait_until_healthy()
        return self

    def start_gateway(self) -> "RunningStack":
        self._start(self.plan.gateway)
        return self

    def _start(self, spec: stacklib.ProcessSpec) -> None:
        self.processes[spec.name] = ManagedProcess(spec, self.log_dir).start()

    def stop_process(self, name: str) -> None:
        self.processes[name].stop()

    def restart_process(self, name: str) -> None:
        self.processes[name].stop()
        self.processes[name].start()
        self.wait_until_healthy()

    def wait_until_healthy(self) -> None:
        """Every service SERVING with MongoDB and NATS reported up: how later tests expect the stack."""
        for service in SERVICE_NAMES:
            for check in ("", "copnet.dependency.mongodb", "copnet.dependency.nats"):
                self.wait_for(lambda s=service, c=check: self.clients[s].health_status(c) == "SERVING", 60,
                              f"{service} health {check or 'overall'}")

    def stop(self) -> None:
        """The gateway and services together (each waits out its own grace), then the database
        and NATS they were using, in reverse order of start."""
        self.clients.close()
        infrastructure = {spec.name for spec in self.plan.infrastructure}
        apps = [process for name, process in self.processes.items() if name not in infrastructure]
        if apps:
            with ThreadPoolExecutor(len(apps)) as stopping:
                list(stopping.map(lambda process: process.stop(), apps))
        for name, process in reversed(list(self.processes.items())):
            if name in infrastructure:
                process.stop()

    # -- helpers for tests --------------------------------------------------------------------
    @property
    def mongodb_uri(self) -> str:
        return self.plan.mongodb_uri

    @property
    def nats_url(self) -> str:
        """NATS as the tests reach it: as the operator (every permission), not as a service."""
        return self.plan.nats_operator_url

    def token(self, role: str, org: str = "", person: str = "tester") -> str:
        """A person's token, signed with the stack's issuer key."""
        return auth.issue_token(token_keys.issuer(self.settings), person, role, org)

    def service_token(self, service: str) -> str:
        """`service`'s own service token, signed with that service's key."""
        files = token_keys.local_key_files(self.settings)
        return auth.service_token(token_keys.service_signer(
            self.settings.model_copy(update={"service_key_file": files.service(service)}), service))

    def wait_for(self, predicate: Callable[[], object], timeout: float = 30, what: str = "condition") -> None:
        stacklib.wait_until(lambda: bool(predicate()), timeout, what, interval=0.1)

    def logs(self, name: str) -> str:
        return self.processes[name].tail(200)


@contextlib.contextmanager
def own_demo_stack(root: Path) -> Iterator[RunningStack]:
    """A whole stack of its own under `root`, gateway included, with the demo network loaded: for a
    test whose writes (a fuzzer's, a matrix of callers') must never meet another test's
    expectations, or that reads everything its streams hold."""
    running = RunningStack(settings_for_tests(root / "data"), root)
    try:
        running.start_infrastructure().start_services().start_gateway()
        seed.load_demo(running.gateway_url, running.token("platform_admin", person=seed.SEED_PERSON_ID))
        yield running
    finally:
        running.stop()
