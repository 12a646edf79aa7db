"""What a stack is made of: ports for tests and the embedded NATS server's durability."""

from copnet import stack
from copnet.kernel.settings import load_settings


def test_free_ports_are_outside_the_ephemeral_range_and_never_repeat():
    ephemeral = stack._ephemeral_range()
    ports = [stack.free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    assert not any(port in ephemeral for port in ports)


def test_embedded_nats_fsyncs_every_message_and_keeps_its_store_in_the_data_dir(tmp_path):
    settings = load_settings(data_dir=tmp_path, secret="x" * 40)
    spec, url = stack.nats_spec(settings)
    config = tmp_path / "nats.conf"
    assert spec.argv[spec.argv.index("--config") + 1] == str(config.resolve())
    text = config.read_text()
    assert "sync_interval: always" in text
    assert str((tmp_path / "nats").resolve()) in text
    assert url == f"nats://{settings.host}:{settings.embedded_nats_port}"
