"""The regional deploy files (deploy/compose, deploy/kubernetes/base) run every service of a region,
share included, and give NATS the accounts `copnet up` gives its embedded server. `nats-server -t`
over every deploy/**/*.conf: tests/unit/test_federation_nats.py; the compose nats.conf with a real
server: tests/integration/test_deploy_region_nats.py."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from copnet import stack
from copnet.federation_nats import SHARE_ADMIN
from copnet.kernel.settings import SERVICE_NAMES, Settings
from copnet.kernel.token_keys import service_key_file

DEPLOY = Path(__file__).parents[2] / "deploy"
COMPOSE = DEPLOY / "compose"
KUBERNETES = DEPLOY / "kubernetes" / "base"
REGION = "north"


def nats_variables(text: str) -> set[str]:
    """The environment variables a nats-server configuration reads: $NAME outside comments and
    quoted strings ("$JS.API.>" is a subject)."""
    code = re.sub(r'"[^"]*"', "", "\n".join(without_comments(text)))
    return set(re.findall(r"\$([A-Z][A-Z0-9_]+)", code))


def without_comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def accounts_block(text: str) -> list[str]:
    """The lines of `accounts { ... }`, comments left out."""
    lines = without_comments(text)
    start = lines.index("accounts {")
    depth = 0
    for end in range(start, len(lines)):
        depth += lines[end].count("{") - lines[end].count("}")
        if depth == 0:
            return lines[start:end + 1]
    raise AssertionError("accounts { is never closed")


def conf_users(text: str) -> dict[str, dict]:
    """Each user of a nats.conf: its password variable and its publish allow list."""
    users = {}
    for match in re.finditer(r"\{user: ([\w-]+), password: \$(\w+)(.*?)\}\s*(?:,|\n)", text, re.DOTALL):
        name, variable, rest = match.groups()
        allowed = re.search(r"allow: \[(.*?)\]", rest, re.DOTALL)
        users[name] = {"variable": variable,
                       "allow": re.findall(r'"([^"]+)"', allowed.group(1)) if allowed else None}
    return users


def compose(name: str = "compose.yaml") -> dict:
    return yaml.safe_load((COMPOSE / name).read_text())


# -- nats.conf -------------------------------------------------------------------------------------
def test_the_compose_nats_conf_has_the_embedded_users_and_permissions():
    """Every user copnet.stack gives the embedded server, with the same publish allow list (`*` for
    the region), in COPNET; share-admin in SHARE; JetStream's domain is the region."""
    text = (COMPOSE / "nats.conf").read_text()
    users = conf_users(text)
    expected = {user["user"]: user for user in stack.nats_users(REGION, "s" * 40)}
    assert set(users) == {*expected, SHARE_ADMIN}
    for name, user in expected.items():
        allow = user.get("permissions", {}).get("publish", {}).get("allow")
        wanted = None if allow is None else sorted(subject.replace(f".{REGION}.", ".*.") for subject in allow)
        assert (sorted(users[name]["allow"]) if users[name]["allow"] is not None else None) == wanted, name
    assert "copnet-share.*.>" in users["share"]["allow"]
    assert not any("copnet-share" in subject for name in SERVICE_NAMES if name != "share"
                   for subject in users[name]["allow"])
    assert users[SHARE_ADMIN]["variable"] == "COPNET_SHARE_NATS_PASSWORD"
    assert "domain: $COPNET_REGION" in without_comments(text)
    assert '{service: {account: SHARE, subject: "copnet-share.*.>"}}' in accounts_block(text)
    assert '{service: "copnet-share.*.>", accounts: [COPNET]}' in accounts_block(text)


def test_the_compose_nats_conf_and_the_hub_link_file_have_the_same_accounts():
    """Linking the region swaps nats.conf for deploy/nats/leafnode-hub-link.conf: nothing but the
    leaf-node remote may change."""
    unlinked = (COMPOSE / "nats.conf").read_text()
    linked = (DEPLOY / "nats" / "leafnode-hub-link.conf").read_text()
    assert accounts_block(unlinked) == accounts_block(linked)
    assert "leafnodes {" not in without_comments(unlinked)


# -- compose.yaml ----------------------------------------------------------------------------------
def test_compose_runs_every_regional_service_with_its_own_user_and_key():
    services = compose()["services"]
    for name in SERVICE_NAMES:
        service = services[name]
        assert service["command"] == ["python", "-m", f"copnet.{name}"]
        env = service["environment"]
        assert env["COPNET_NATS_USER"] == name
        assert env["COPNET_NATS_PASSWORD"].startswith(f"${{COPNET_NATS_PASSWORD_{name.upper()}:?")
        assert f"./keys/{service_key_file(name)}:/run/copnet/service.pem:ro" in service["volumes"]
        assert service["healthcheck"]["test"][-1] == str(Settings.model_fields[f"{name}_port"].default)
        has_share_admin = "COPNET_SHARE_NATS_PASSWORD" in env
        assert has_share_admin == (name == "share"), name  # share-admin is the share service's alone
    share = services["share"]["environment"]
    assert share["COPNET_SHARE_NATS_USER"] == SHARE_ADMIN
    # it reads membership's catalog and directory and reflection's cycle counts over gRPC
    assert share["COPNET_MEMBERSHIP_ADDR"] == "membership:50051"
    assert share["COPNET_REFLECTION_ADDR"] == "reflection:50054"


def test_the_gateway_reaches_every_service_it_checks():
    gateway = compose()["services"]["gateway"]
    for name in SERVICE_NAMES:
        port = Settings.model_fields[f"{name}_port"].default
        assert gateway["environment"][f"COPNET_{name.upper()}_ADDR"] == f"{name}:{port}"
        assert name in gateway["depends_on"]


def test_compose_gives_nats_every_variable_its_configurations_read():
    """The nats container's environment fills every $VARIABLE of nats.conf, and with
    hub-link.compose.yaml added every one of leafnode-hub-link.conf."""
    nats = compose()["services"]["nats"]
    assert set(nats["environment"]) == nats_variables((COMPOSE / "nats.conf").read_text())
    link = compose("hub-link.compose.yaml")["services"]
    linked_env = {**nats["environment"], **link["nats"]["environment"]}
    assert set(linked_env) == nats_variables((DEPLOY / "nats" / "leafnode-hub-link.conf").read_text())


def test_the_hub_link_override_replaces_the_nats_configuration():
    """Compose merges volumes by their path in the container: the override's configuration must
    land where compose.yaml's nats.conf did, and the CA where leafnode-hub-link.conf reads it."""
    base = compose()["services"]["nats"]
    link = compose("hub-link.compose.yaml")["services"]
    config_target = next(volume.split(":")[1] for volume in base["volumes"] if volume.startswith("./nats.conf:"))
    assert config_target in base["command"]
    link_volumes = dict(volume.split(":")[:2] for volume in link["nats"]["volumes"])
    assert link_volumes["../nats/leafnode-hub-link.conf"] == config_target
    assert (COMPOSE / "../nats/leafnode-hub-link.conf").resolve().exists()
    assert link_volumes["./hub-ca.pem"] in (DEPLOY / "nats" / "leafnode-hub-link.conf").read_text()
    assert set(link) <= set(compose()["services"])


def test_example_env_names_every_required_variable():
    text = "\n".join((COMPOSE / name).read_text() for name in ("compose.yaml", "hub-link.compose.yaml"))
    required = set(re.findall(r"\$\{(\w+):\?", text))
    example = (COMPOSE / "example.env").read_text()
    named = set(re.findall(r"^#?(\w+)=", example, re.MULTILINE))
    assert {"COPNET_NATS_PASSWORD_SHARE", "COPNET_SHARE_NATS_PASSWORD"} <= required
    assert required <= named, required - named


# -- Kubernetes base -------------------------------------------------------------------------------
def documents(path: Path) -> list[dict]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document]


def test_the_kubernetes_base_runs_every_regional_service():
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    deployments = {document["metadata"]["name"]: document for resource in kustomization["resources"]
                   for document in documents(KUBERNETES / resource) if document["kind"] == "Deployment"}
    assert set(deployments) == {*SERVICE_NAMES, "gateway"}
    config = (KUBERNETES / "config.env").read_text().splitlines()
    for name in SERVICE_NAMES:
        port = Settings.model_fields[f"{name}_port"].default
        assert f"COPNET_{name.upper()}_ADDR={name}:{port}" in config
        pod = deployments[name]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert container["command"] == ["python", "-m", f"copnet.{name}"]
        assert container["ports"][0]["containerPort"] == port
        env = {item["name"]: item for item in container.get("env", [])}
        assert env["COPNET_NATS_USER"]["value"] == name
        assert env["COPNET_NATS_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == f"COPNET_NATS_PASSWORD_{name.upper()}"
        assert ("COPNET_SHARE_NATS_PASSWORD" in env) == (name == "share"), name
        secrets = {volume["secret"]["secretName"] for volume in pod["volumes"] if "secret" in volume}
        assert f"copnet-token-key-{name}" in secrets
    share = {item["name"]: item for item in deployments["share"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert share["COPNET_SHARE_NATS_USER"]["value"] == SHARE_ADMIN
    assert share["COPNET_SHARE_NATS_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "COPNET_SHARE_NATS_PASSWORD"
