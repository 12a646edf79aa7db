"""The federation's NATS configurations as built (copnet.federation_nats, copnet.stack) and as
shipped (deploy/): their shape, the leaf credentials, and `nats-server -t` over every one of them.
What they do with real servers: tests/integration/test_federation_link.py."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from copnet import federation_nats, stack
from copnet.cli.root import app as cli
from copnet.kernel.settings import HUB_SERVICE_NAMES, SERVICE_NAMES, load_settings
from typer.testing import CliRunner

SECRET = "s" * 40
DEPLOY = Path(__file__).parents[2] / "deploy"


def region_settings(tmp_path: Path, **overrides):
    return load_settings(data_dir=tmp_path / "north", secret=SECRET, region="north", **overrides)


def hub_settings(tmp_path: Path, regions: str = "north,south"):
    return load_settings(data_dir=tmp_path / "hub", secret=SECRET, instance="hub", region="hub", hub_regions=regions)


def written_config(settings) -> str:
    stack.nats_spec(settings, SECRET)
    return (settings.data_dir.resolve() / "nats.conf").read_text()


def nats_server_accepts(config: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([stack.executable("nats-server"), "-t", "-c", str(config)], check=False,
                          capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=30)


# -- a region --------------------------------------------------------------------------------------
def test_a_region_has_the_services_account_and_the_share_account_in_its_own_domain(tmp_path):
    settings = region_settings(tmp_path)
    config = federation_nats.region_config(settings, tmp_path, stack.nats_users("north", SECRET), "admin-pw")
    assert config["jetstream"]["domain"] == "north"
    services, share = config["accounts"]["COPNET"], config["accounts"]["SHARE"]
    assert {user["user"] for user in services["users"]} == {*SERVICE_NAMES, stack.NATS_OPERATOR}
    assert services["imports"] == [{"service": {"account": "SHARE", "subject": "copnet-share.north.>"}}]
    assert share["users"] == [{"user": "share-admin", "password": "admin-pw"}]
    assert share["exports"] == [{"service": "copnet-share.north.>", "accounts": ["COPNET"]}]
    assert "leafnodes" not in config  # not linked: the region still fills its share stream


def test_only_the_share_service_may_publish_share_subjects(tmp_path):
    users = {user["user"]: user for user in stack.nats_users("north", SECRET)}
    for service in SERVICE_NAMES:
        allowed = users[service]["permissions"]["publish"]["allow"]
        assert ("copnet-share.north.>" in allowed) == (service == "share"), service
        assert not any(subject.startswith("copnet-share") for subject in allowed if service != "share")


def test_a_linked_region_is_a_leaf_node_of_the_hub_bound_to_the_share_account(tmp_path):
    ca = tmp_path / "hub-ca.pem"
    settings = region_settings(tmp_path, hub_leaf_url="tls://hub.example.org:7422", hub_leaf_user="region-north",
                               hub_leaf_password="p@ss/word", hub_leaf_ca_file=ca)
    [remote] = federation_nats.region_config(settings, tmp_path, [], "x")["leafnodes"]["remotes"]
    assert remote["account"] == "SHARE"
    assert remote["urls"] == ["tls://region-north:p%40ss%2Fword@hub.example.org:7422"]
    assert remote["tls"] == {"ca_file": str(ca.resolve())}
    for subject in ("copnet-share.>", "copnet.>", "copnet-dlq.>", "$JS.*.API.STREAM.DELETE.>",
                    "$JS.*.API.STREAM.PURGE.>", "$JS.*.API.STREAM.CREATE.>", "$JS.*.API.STREAM.UPDATE.>"):
        assert subject in remote["deny_imports"], subject
    assert {"copnet.>", "copnet-dlq.>", "$JS.API.>", "$JS.*.API.>"} <= set(remote["deny_exports"])
    # what a stream source needs stays allowed
    assert not any(re.fullmatch(pattern.replace(".", r"\.").replace("*", "[^.]+").replace(">", ".+").replace("$", r"\$"),
                                f"$JS.north.API.{call}.copnet-share-north")
                   for pattern in remote["deny_imports"] for call in ("STREAM.INFO", "CONSUMER.CREATE"))


def test_the_share_service_alone_gets_the_share_accounts_credentials(tmp_path):
    plan = stack.plan(region_settings(tmp_path, mongodb_uri="mongodb://db"))
    for spec in plan.all:
        has = "COPNET_SHARE_NATS_USER" in spec.env or "COPNET_SHARE_NATS_PASSWORD" in spec.env
        assert has == (spec.name == "share"), spec.name
    share = next(spec for spec in plan.services if spec.name == "share")
    assert share.env["COPNET_SHARE_NATS_USER"] == "share-admin"
    assert share.env["COPNET_SHARE_NATS_PASSWORD"] == stack.share_admin_password(SECRET)
    assert plan.share_operator_url == stack.with_credentials(plan.nats_url, "share-admin",
                                                             stack.share_admin_password(SECRET))
    assert federation_nats.share_admin_url(plan) == plan.share_operator_url


def test_no_process_inherits_the_leaf_password(tmp_path):
    plan = stack.plan(region_settings(tmp_path, mongodb_uri="mongodb://db", hub_leaf_url="tls://hub:7422",
                                      hub_leaf_user="region-north", hub_leaf_password="leaf-secret"))
    assert not any("leaf-secret" in value for spec in plan.all for value in spec.env.values())
    assert "leaf-secret" in (tmp_path / "north" / "nats.conf").read_text()  # the server's, 0600
    assert (tmp_path / "north" / "nats.conf").stat().st_mode & 0o077 == 0


# -- the hub ---------------------------------------------------------------------------------------
def test_the_hub_has_domain_hub_and_one_confined_leaf_user_per_region(tmp_path):
    settings = hub_settings(tmp_path)
    config = federation_nats.hub_config(settings, tmp_path, stack.nats_users("hub", SECRET, HUB_SERVICE_NAMES),
                                       "system-pw")
    assert config["jetstream"]["domain"] == "hub"
    assert config["leafnodes"]["port"] == settings.embedded_leaf_port
    users = {user["user"]: user for user in config["accounts"]["STATEWIDE"]["users"]}
    assert set(users) == {"statewide", stack.NATS_OPERATOR, "region-north", "region-south"}
    north = users["region-north"]
    assert north["allowed_connection_types"] == ["LEAFNODE"]
    assert north["permissions"]["publish"]["allow"] == ["copnet-deliver.north.>", "$JSC.R.>"]
    assert north["permissions"]["subscribe"]["allow"] == [
        "$JS.north.API.>", "$JS.FC.north.>", "$JS.FC.copnet-share-north.>"]
    assert north["password"] == federation_nats.region_credentials(settings, "north")[1]


def test_the_statewide_source_delivers_on_the_regions_own_subjects():
    source = federation_nats.statewide_source("north")
    assert source.name == "copnet-share-north" and source.filter_subject == "copnet-share.north.>"
    assert source.external.api == "$JS.north.API" and source.external.deliver == "copnet-deliver.north"


def test_the_hub_plan_runs_its_own_services_with_their_own_users(tmp_path):
    plan = stack.plan(hub_settings(tmp_path).model_copy(update={"mongodb_uri": "mongodb://db"}))
    assert [spec.name for spec in plan.services] == list(HUB_SERVICE_NAMES)
    [statewide] = plan.services
    assert statewide.env["COPNET_NATS_USER"] == "statewide"
    assert statewide.env["COPNET_SERVICE_KEY_FILE"].endswith("service-statewide.pem")
    assert "COPNET_SHARE_NATS_USER" not in statewide.env
    nats = next(spec for spec in plan.infrastructure if spec.name == "nats")
    assert plan.share_operator_url == ""
    assert hub_settings(tmp_path).embedded_leaf_port in nats.ports
    assert sorted(federation_nats.known_regions(hub_settings(tmp_path))) == ["north", "south"]  # made by the plan


def test_leaf_credentials_are_random_kept_private_and_stable_until_rotated(tmp_path):
    settings = hub_settings(tmp_path)
    user, password = federation_nats.region_credentials(settings, "north")
    assert user == "region-north" and len(password) >= 32
    path = federation_nats.credentials_path(settings, "north")
    assert path.stat().st_mode & 0o077 == 0
    assert federation_nats.region_credentials(settings, "north") == (user, password)
    assert federation_nats.region_credentials(settings, "south")[1] != password
    rotated = federation_nats.rotate_region_credentials(settings, "north")
    assert rotated[0] == user and rotated[1] != password
    assert federation_nats.region_credentials(settings, "north") == rotated


def test_link_settings_point_a_region_at_the_hubs_leaf_port(tmp_path):
    hub = hub_settings(tmp_path)
    region = region_settings(tmp_path, **federation_nats.link_settings(hub, "north"))
    assert region.hub_leaf_url == f"nats-leaf://127.0.0.1:{hub.embedded_leaf_port}"
    assert (region.hub_leaf_user, region.hub_leaf_password.get_secret_value()) == \
        federation_nats.region_credentials(hub, "north")


# -- nats-server -t --------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["unlinked", "linked", "linked-tls", "hub"])
def test_nats_server_accepts_every_generated_configuration(tmp_path, variant):
    if variant == "hub":
        settings = hub_settings(tmp_path)
    else:
        ca = tmp_path / "ca.pem"
        if variant == "linked-tls":
            throwaway_tls(tmp_path)
        link = {} if variant == "unlinked" else {
            "hub_leaf_url": "tls://hub.example.org:7422", "hub_leaf_user": "region-north", "hub_leaf_password": "pw",
            "hub_leaf_ca_file": ca if variant == "linked-tls" else None}
        settings = region_settings(tmp_path, **link)
    written_config(settings)
    result = nats_server_accepts(settings.data_dir.resolve() / "nats.conf")
    assert result.returncode == 0, result.stderr


def throwaway_tls(directory: Path) -> None:
    spec = importlib.util.spec_from_file_location("check_hub_link", DEPLOY / "nats" / "check_hub_link.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make_tls(directory)


def deploy_environment(text: str) -> dict[str, str]:
    """A value for every $VARIABLE a deploy file reads (nats-server substitutes the environment)."""
    names = set(re.findall(r"\$([A-Z][A-Z0-9_]+)", text))
    env = {name: f"{name.lower()}-value" for name in names}
    env |= {"COPNET_REGION": "north", "HUB_LEAF_URL": "tls://region-north:pw@hub.example.org:7422"}
    return env


@pytest.mark.parametrize("path", sorted(DEPLOY.rglob("*.conf")), ids=lambda path: str(path.relative_to(DEPLOY)))
def test_nats_server_accepts_every_configuration_in_deploy(tmp_path, path):
    throwaway_tls(tmp_path)
    text = (path.read_text().replace("/etc/nats/hub-ca.pem", str(tmp_path / "ca.pem"))
            .replace("/etc/nats/tls/tls.crt", str(tmp_path / "hub.pem"))
            .replace("/etc/nats/tls/tls.key", str(tmp_path / "hub.key"))
            .replace("store_dir: /data", f'store_dir: "{tmp_path / "store"}"'))
    config = tmp_path / path.name
    config.write_text(text)
    result = nats_server_accepts(config, deploy_environment(text))
    assert result.returncode == 0, result.stderr


def test_the_deploy_hub_users_match_what_the_hub_builds(tmp_path):
    """deploy/nats/hub.conf's leaf users have exactly the permissions federation_nats gives them."""
    text = (DEPLOY / "nats" / "hub.conf").read_text()
    for region in ("north", "south"):
        permissions = federation_nats.leaf_permissions(region)
        for subject in (*permissions["publish"]["allow"], *permissions["subscribe"]["allow"]):
            assert f'"{subject}"' in text, subject
    region_text = (DEPLOY / "nats" / "leafnode-hub-link.conf").read_text()
    for subject in (*federation_nats.leaf_deny_imports("north"), *federation_nats.leaf_deny_exports("north")):
        assert f'"{subject}"' in region_text, subject


def test_the_hub_compose_file_and_manifests_run_the_hub(tmp_path):
    compose = yaml.safe_load((DEPLOY / "compose" / "hub.compose.yaml").read_text())
    assert set(compose["services"]) == {"mongo", "mongo-init", "nats", "statewide", "gateway"}
    assert compose["services"]["nats"]["volumes"][1].startswith("../nats/hub.conf:")
    assert "COPNET_INSTANCE" in (DEPLOY / "compose" / "hub.compose.yaml").read_text()
    kubernetes = DEPLOY / "kubernetes" / "hub"
    kustomization = yaml.safe_load((kubernetes / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        documents = list(yaml.safe_load_all((kubernetes / resource).read_text()))
        assert all(document["kind"] for document in documents)
    assert "COPNET_INSTANCE=hub" in (kubernetes / "config.env").read_text().splitlines()


# -- copnet hub region ------------------------------------------------------------------------------
def hub_cli(tmp_path: Path, *args: str, instance: str = "hub"):
    env = {"COPNET_INSTANCE": instance, "COPNET_REGION": "hub" if instance == "hub" else "north",
           "COPNET_HUB_REGIONS": "north", "COPNET_DATA_DIR": str(tmp_path / "hub"), "COPNET_SECRET": SECRET}
    return CliRunner().invoke(cli, ["hub", "region", *args], env=env)


def test_copnet_hub_region_manages_the_leaf_credentials(tmp_path):
    added = hub_cli(tmp_path, "add", "north")
    assert added.exit_code == 0, added.output
    assert "credentials made" in added.output and '"copnet-deliver.north.>"' in added.output
    assert "$COPNET_LEAF_PASSWORD_NORTH" in added.output
    settings = hub_settings(tmp_path, "north")
    user, password = federation_nats.region_credentials(settings, "north")
    assert password not in added.output  # shown only on request
    assert "credentials already made" in hub_cli(tmp_path, "add", "north").output
    assert federation_nats.region_credentials(settings, "north") == (user, password)

    shown = hub_cli(tmp_path, "credentials", "north")
    assert shown.exit_code == 0 and f"COPNET_HUB_LEAF_USER={user}\nCOPNET_HUB_LEAF_PASSWORD={password}" in shown.output

    assert hub_cli(tmp_path, "add", "east").exit_code == 0  # not in COPNET_HUB_REGIONS: made, and said so
    listed = hub_cli(tmp_path, "list").output
    assert re.search(r"north\s+region-north\s+linked", listed) and "east" in listed
    assert "not in COPNET_HUB_REGIONS" in listed

    rotated = hub_cli(tmp_path, "rotate", "north")
    assert rotated.exit_code == 0, rotated.output
    new = federation_nats.region_credentials(settings, "north")[1]
    assert new != password and f"COPNET_HUB_LEAF_PASSWORD={new}" in rotated.output
    assert "not running here" in rotated.output
    assert new in (tmp_path / "hub" / "nats.conf").read_text() and password not in (tmp_path / "hub" / "nats.conf").read_text()


@pytest.mark.parametrize(("args", "instance", "code", "says"), [
    (("add", "Bad_Name"), "hub", 2, "lowercase letters"),
    (("add", "hub"), "hub", 2, "the hub's own JetStream domain"),
    (("credentials", "west"), "hub", 1, "no credentials for region 'west'"),
    (("rotate", "west"), "hub", 1, "no credentials for region 'west'"),
    (("list",), "region", 2, "COPNET_INSTANCE=hub"),
])
def test_copnet_hub_region_refuses_what_it_cannot_do(tmp_path, args, instance, code, says):
    result = hub_cli(tmp_path, *args, instance=instance)
    assert result.exit_code == code and says in result.output, result.output
    assert not (tmp_path / "hub" / federation_nats.CREDENTIALS_DIRECTORY / "west").exists()
