"""What a stack is made of: ports for tests and the embedded NATS server's durability."""

from copnet import stack
from copnet.kernel.settings import SERVICE_NAMES, load_settings


def test_free_ports_are_outside_the_ephemeral_range_and_never_repeat():
    ephemeral = stack._ephemeral_range()
    ports = [stack.free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    assert not any(port in ephemeral for port in ports)


def test_embedded_nats_fsyncs_every_message_and_keeps_its_store_in_the_data_dir(tmp_path):
    settings = load_settings(data_dir=tmp_path, secret="x" * 40)
    spec, url = stack.nats_spec(settings, "x" * 40)
    config = tmp_path / "nats.conf"
    assert spec.argv[spec.argv.index("--config") + 1] == str(config.resolve())
    text = config.read_text()
    assert '"sync_interval": "always"' in text
    assert str((tmp_path / "nats").resolve()) in text
    assert url == f"nats://{settings.host}:{settings.embedded_nats_port}"


def test_embedded_nats_has_a_user_per_service_that_publishes_only_its_own_subjects(tmp_path):
    secret = "x" * 40
    settings = load_settings(data_dir=tmp_path, secret=secret, region="north")
    stack.nats_spec(settings, secret)
    config = tmp_path / "nats.conf"
    assert config.stat().st_mode & 0o077 == 0  # passwords inside: the owner's only
    users = {user["user"]: user for user in stack.nats_users("north", secret)}
    assert set(users) == {*SERVICE_NAMES, stack.NATS_OPERATOR}
    assert users["membership"]["permissions"]["publish"]["allow"] == [
        "copnet.north.membership.>", "copnet-dlq.north.membership.>", "$JS.API.>", "$JS.ACK.>", "_INBOX.>"]
    assert "permissions" not in users[stack.NATS_OPERATOR]
    assert len({user["password"] for user in users.values()}) == len(users)
    assert all(user["password"] in config.read_text() for user in users.values())
    assert stack.nats_password(secret, "membership") == users["membership"]["password"]  # stable


def test_each_service_connects_to_the_embedded_nats_as_its_own_user(tmp_path):
    secret = "y" * 40
    plan = stack.plan(load_settings(data_dir=tmp_path, secret=secret, mongodb_uri="mongodb://db"))
    for spec in plan.services:
        assert spec.env["COPNET_NATS_USER"] == spec.name
        assert spec.env["COPNET_NATS_PASSWORD"] == stack.nats_password(secret, spec.name)
    assert "COPNET_NATS_USER" not in plan.gateway.env and "COPNET_NATS_PASSWORD" not in plan.env
    assert plan.nats_operator_url.startswith(f"nats://{stack.NATS_OPERATOR}:")
    external = stack.plan(load_settings(data_dir=tmp_path / "x", secret=secret, mongodb_uri="mongodb://db",
                                        nats_url="nats://nats:4222"))
    assert all("COPNET_NATS_USER" not in spec.env for spec in external.services)
    assert external.nats_operator_url == "nats://nats:4222"


def test_each_process_gets_the_public_keys_and_a_service_its_own_key_only(tmp_path):
    plan = stack.plan(load_settings(data_dir=tmp_path, secret="y" * 40, mongodb_uri="mongodb://db"))
    keys = tmp_path.resolve() / "keys"
    for spec in plan.all:
        assert spec.env["COPNET_TOKEN_PUBLIC_KEYS_FILE"] == str(keys / "public-keys.json")
        assert "COPNET_SECRET" not in spec.env and "COPNET_TOKEN_ISSUER_KEY_FILE" not in spec.env
        assert not any(str(keys / "issuer.pem") in value for value in spec.env.values())
    for spec in plan.services:
        assert spec.env["COPNET_SERVICE_KEY_FILE"] == str(keys / f"service-{spec.name}.pem")
    assert "COPNET_SERVICE_KEY_FILE" not in plan.gateway.env
    issuer = (keys / "issuer.pem").read_bytes()
    public = (keys / "public-keys.json").read_text()
    again = stack.plan(load_settings(data_dir=tmp_path, secret="y" * 40, mongodb_uri="mongodb://db"))
    assert (keys / "issuer.pem").read_bytes() == issuer and (keys / "public-keys.json").read_text() == public
    assert again.env["COPNET_TOKEN_PUBLIC_KEYS_FILE"] == plan.env["COPNET_TOKEN_PUBLIC_KEYS_FILE"]


def test_every_setting_but_secrets_and_backends_reaches_the_processes(tmp_path):
    settings = load_settings(data_dir=tmp_path, secret="y" * 40, mongodb_uri="mongodb://db",
                             grpc_calls_per_caller=3, reminder_interval_seconds=7.5, plugin_hook_timeout_seconds=1.5)
    plan = stack.plan(settings)
    for spec in plan.all:
        assert spec.env["COPNET_GRPC_CALLS_PER_CALLER"] == "3"
        assert spec.env["COPNET_REMINDER_INTERVAL_SECONDS"] == "7.5"
        assert spec.env["COPNET_PLUGIN_HOOK_TIMEOUT_SECONDS"] == "1.5"
        assert "COPNET_SECRET" not in spec.env and "COPNET_EMBEDDED_NATS_PORT" not in spec.env
    given = {name for name, value in settings.model_dump().items() if value is not None}
    assert {name for name in given - stack.NOT_INHERITED if f"COPNET_{name.upper()}" not in plan.env} == set()


def test_a_store_from_before_the_accounts_is_handed_to_the_services_account(tmp_path):
    """The streams a server without accounts kept (global account `$G`) would be invisible to the
    services once they live in COPNET: events not yet consumed and durable consumers stranded."""
    from copnet.stack import adopt_default_account_store

    old = tmp_path / "jetstream" / "$G" / "streams" / "copnet-events-x"
    old.mkdir(parents=True)
    (old / "meta.inf").write_text("kept")
    assert adopt_default_account_store(tmp_path, "COPNET")
    assert (tmp_path / "jetstream" / "COPNET" / "streams" / "copnet-events-x" / "meta.inf").read_text() == "kept"
    assert not (tmp_path / "jetstream" / "$G").exists()
    # Done once: a store already in COPNET is left alone, and so is a fresh one.
    (tmp_path / "jetstream" / "$G").mkdir()
    assert not adopt_default_account_store(tmp_path, "COPNET")
    assert not adopt_default_account_store(tmp_path / "fresh", "COPNET")
