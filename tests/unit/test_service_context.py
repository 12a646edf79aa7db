"""What every service's code gets from the kernel: one set of clients per process, and one
service token re-signed only as it nears its expiry."""

from copnet.kernel import auth
from copnet.kernel import service as service_module
from copnet.kernel.plugin_host import PluginHost
from copnet.kernel.service import ServiceContext
from tests.support import tokens


def context() -> ServiceContext:
    return ServiceContext("scheduling", tokens.settings("scheduling"), PluginHost())


def test_one_set_of_clients_per_context():
    ctx = context()
    assert ctx.clients is ctx.clients


def test_the_service_token_is_reused_until_a_minute_before_it_expires(monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(service_module.time, "monotonic", lambda: clock[0])
    signed = []
    real = auth.service_token
    monkeypatch.setattr(auth, "service_token", lambda signer: signed.append(signer.signer) or real(signer))
    ctx = context()
    first = ctx.service_token()
    assert tokens.verifier().verify(first).service == "scheduling"
    clock[0] += auth.SERVICE_TOKEN_SECONDS - 61
    assert ctx.service_token() == first
    assert signed == ["service:scheduling"]
    clock[0] += 2
    ctx.service_token()
    assert signed == ["service:scheduling", "service:scheduling"]
