import pytest

from copnet.kernel.settings import ConfigError, load_settings


def test_defaults_are_valid(monkeypatch):
    for name in ("COPNET_REGION", "COPNET_MONGODB_URI", "COPNET_NATS_URL", "COPNET_SECRET"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.region == "local"
    assert settings.mongodb_uri is None and settings.nats_url is None
    assert settings.address_of("membership") == "127.0.0.1:50051"
    assert settings.database_name("reflection") == "copnet_reflection"


@pytest.mark.parametrize(("variable", "value"), [
    ("COPNET_REGION", "Bay Area"),
    ("COPNET_GATEWAY_PORT", "http"),
    ("COPNET_GATEWAY_PORT", "70000"),
    ("COPNET_SECRET", "too-short"),
    ("COPNET_LOG_LEVEL", "LOUD"),
    ("COPNET_GRPC_DEADLINE_SECONDS", "0"),
])
def test_a_bad_value_is_refused_naming_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert variable in str(raised.value)


def test_service_processes_require_backends_and_secret(monkeypatch):
    monkeypatch.delenv("COPNET_MONGODB_URI", raising=False)
    monkeypatch.delenv("COPNET_SECRET", raising=False)
    settings = load_settings()
    with pytest.raises(ConfigError, match="COPNET_MONGODB_URI"):
        settings.require_backends()
    with pytest.raises(ConfigError, match="COPNET_SECRET"):
        settings.require_secret()


def test_addresses_can_point_elsewhere(monkeypatch):
    monkeypatch.setenv("COPNET_MEMBERSHIP_ADDR", "membership.copnet.svc:50051")
    assert load_settings().address_of("membership") == "membership.copnet.svc:50051"
