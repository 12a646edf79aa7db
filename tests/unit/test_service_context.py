"""What every service's code gets from the kernel: one set of clients per process, and one
service token re-signed only as it nears its expiry."""

from copnet.kernel import auth
from copnet.kernel import service as service_module
from copnet.kernel.plugins import PluginHost
from copnet.kernel.service import ServiceContext
from copnet.kernel.settings import load_settings

SECRET = "s" * 40


def context() -> ServiceContext:
    return ServiceContext("scheduling", load_settings(secret=SECRET), PluginHost())


def test_one_set_of_clients_per_context():
    ctx = context()
    assert ctx.clients is ctx.clients


def test_the_service_token_is_reused_until_a_minute_before_it_expires(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(service_module.time, "monotonic", lambda: clock[0])
    signed = []
    real = auth.service_token
    monkeypatch.setattr(auth, "service_token", lambda secret, name: signed.append(name) or real(secret, name))
    ctx = context()
    first = ctx.service_token()
    assert auth.is_service(auth.verify_token(SECRET, first))
    clock[0] += auth.SERVICE_TOKEN_SECONDS - 61
    assert ctx.service_token() == first
    assert signed == ["scheduling"]
    clock[0] += 2
    ctx.service_token()
    assert signed == ["scheduling", "scheduling"]
