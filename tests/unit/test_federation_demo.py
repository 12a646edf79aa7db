"""The federation demo without starting anything: the demo network split between its two regions
(each item in exactly one, the state in both, nothing of one region in the other, loading order
kept), the instances' ports and settings, and `copnet up --hub`'s refusals and link instructions
(the demo running for real: tests/integration/test_federation_demo.py)."""

from __future__ import annotations

import datetime as dt
import socket

import pytest
from typer.testing import CliRunner

from copnet import federation_demo, federation_nats, seed, stack
from copnet.cli import run as runner
from copnet.cli.root import app, hub_link_lines
from copnet.kernel.settings import load_settings

NOW = dt.datetime(2026, 11, 23, 17, 30, tzinfo=dt.UTC)
ORGS = {org.id: org for org in seed.DEMO_ORGANIZATIONS}
REGION_ORGS = seed.DEMO_REGION_ORGANIZATIONS


def subtree(root: str) -> set[str]:
    """`root` and every demo organization under it."""
    found = {root}
    for org in seed.DEMO_ORGANIZATIONS:  # parents come first
        if org.parent_id in found:
            found.add(org.id)
    return found


def region_items(region: str) -> list[seed.Item]:
    return seed.demo_region_items(region, NOW)


def ids_of(items, kind) -> list[str]:
    return [item.id for item in items if isinstance(item, kind)]


# -- the split --------------------------------------------------------------------------------------

def test_the_demo_has_the_two_region_organizations_the_instances_are_named_for():
    assert set(REGION_ORGS) == {"bay-area", "southern"}
    for org_id in REGION_ORGS.values():
        assert ORGS[org_id].kind == "region" and ORGS[org_id].parent_id == seed.DEMO_STATE_ID


@pytest.mark.parametrize("kind", [seed.Org, seed.Person, seed.Community])
def test_every_organization_person_and_community_lands_in_exactly_one_region(kind):
    everything = [*seed.DEMO_ORGANIZATIONS, *seed.DEMO_PEOPLE, *seed.DEMO_COMMUNITIES, *seed.DEMO_SOUTHERN_ITEMS]
    expected = {item.id for item in everything if isinstance(item, kind)}
    placed: dict[str, list[str]] = {}
    for region in REGION_ORGS:
        for item_id in ids_of(region_items(region), kind):
            placed.setdefault(item_id, []).append(region)
    assert set(placed) == expected
    for item_id, regions in placed.items():
        if kind is seed.Org and item_id == seed.DEMO_STATE_ID:
            assert sorted(regions) == sorted(REGION_ORGS), "the state organization is in every region"
        else:
            assert len(regions) == 1, (item_id, regions)


def test_every_item_of_the_single_instance_demo_is_loaded_somewhere():
    loaded = {item.id for region in REGION_ORGS for item in region_items(region)}
    assert {item.id for item in seed.demo_items(NOW)} <= loaded


@pytest.mark.parametrize(("region", "other"), [("bay-area", "southern"), ("southern", "bay-area")])
def test_nothing_of_the_other_region_is_loaded_into_a_region(region, other):
    theirs = subtree(REGION_ORGS[other])
    their_people = {p.id for p in seed.DEMO_PEOPLE if {org for org, _ in p.affiliations} & theirs}
    communities = {c.id: c for c in (*seed.DEMO_COMMUNITIES, seed.DEMO_SOUTHERN_OPEN_COMMUNITY)}
    for item in region_items(region):
        organizations = seed.item_organizations(item, communities)
        assert not organizations & theirs, item
        for field in ("person_id", "owner_organization_id", "organization_id", "region_id"):
            assert getattr(item, field, None) not in theirs | their_people, item
        if isinstance(item, seed.TeamSignup):
            assert not {person for person, _ in item.members} & their_people
        if isinstance(item, seed.Community):
            assert not set(item.facilitator_ids) & their_people
            assert not set(item.eligible_organization_ids) & theirs
    assert not any(item.id in theirs for item in region_items(region) if isinstance(item, seed.Org))


def test_bay_area_holds_the_state_its_subtree_and_what_hangs_at_the_state():
    items = region_items("bay-area")
    assert set(ids_of(items, seed.Org)) == subtree("ca-bay-area") | {"ca"}
    assert "ca-math-leads" in ids_of(items, seed.Community)  # hosted by the state: loaded once, here
    assert seed.DEMO_PROGRAM.id in ids_of(items, seed.Program)
    assert ids_of(items, seed.Session) == [s.id for s in seed.DEMO_SESSIONS]
    assert ids_of(items, seed.PluginSetup) == [p.id for p in seed.DEMO_PLUGINS]


def test_southern_holds_the_state_its_subtree_and_an_open_community():
    items = region_items("southern")
    assert set(ids_of(items, seed.Org)) == subtree("ca-southern") | {"ca"}
    assert ids_of(items, seed.Person) == ["grace-okafor"]
    opened = {item.community_id for item in items if isinstance(item, seed.Opening)}
    assert seed.DEMO_SOUTHERN_OPEN_COMMUNITY.id in opened
    community = seed.DEMO_SOUTHERN_OPEN_COMMUNITY
    assert community.capacity > 0 and community.signup_window is not None  # what opening needs


@pytest.mark.parametrize("region", list(REGION_ORGS))
def test_each_region_imports_its_own_county_offices_assessment_data_and_the_state_research_file(region):
    items = [item for item in region_items(region) if isinstance(item, seed.AssessmentData)]
    ours = subtree(REGION_ORGS[region])
    assert items and all(item.organization_id in ours for item in items)
    research = [item for item in items if item.importer == "caaspp-research-file"]
    assert len(research) == 1
    county_offices = {school.county_office_id for school in seed.DEMO_ASSESSMENT_SCHOOLS} & ours
    assert {item.organization_id for item in items if item.importer == "caaspp-student-scores"} == county_offices


@pytest.mark.parametrize("region", list(REGION_ORGS))
def test_a_regions_items_come_in_loading_order(region):
    """Parents before children, people before their grants and sign-ups, a community before its
    opening, sign-ups and sessions; ids never repeated."""
    items = region_items(region)
    position = {(type(item), item.id): n for n, item in enumerate(items)}
    assert len(position) == len(items)
    before = lambda kind, item_id, n: position[(kind, item_id)] < n  # noqa: E731
    for n, item in enumerate(items):
        match item:
            case seed.Org(parent_id=parent) if parent:
                assert before(seed.Org, parent, n)
            case seed.Grant() | seed.Signup():
                assert before(seed.Person, item.person_id, n)
            case seed.Opening() | seed.Session():
                assert before(seed.Community, item.community_id, n)
        if isinstance(item, seed.Signup):
            assert before(seed.Opening, f"{item.community_id}:open", n)
    first_import = min(n for n, item in enumerate(items) if isinstance(item, seed.AssessmentData))
    assert all(not isinstance(item, seed.AssessmentData) for item in items[:first_import])
    assert all(isinstance(item, seed.AssessmentData) for item in items[first_import:])


def test_an_unknown_region_is_refused():
    with pytest.raises(seed.RegionSplitError, match="no demo region 'north'"):
        seed.demo_region_items("north", NOW)


def test_a_person_affiliated_in_both_regions_cannot_be_placed():
    both = seed.Person("two-hats", "Two Hats", "two@example.org", (("bayside-es", "teacher"), ("mesa-ms", "coach")))
    with pytest.raises(seed.RegionSplitError, match="spans regions"):
        seed.demo_item_region(both)


# -- the instances ----------------------------------------------------------------------------------

def test_each_instance_has_its_own_block_of_ports():
    blocks = [federation_demo.block_ports(index) for index in range(1 + len(federation_demo.REGIONS))]
    every = [port for block in blocks for port in block.values()]
    assert len(every) == len(set(every))
    assert blocks[0]["gateway_port"] == 18080
    assert all(0 <= offset < federation_demo.PORT_BLOCK for offset in federation_demo.PORT_OFFSETS.values())
    with pytest.raises(ValueError, match="port base 65500"):
        federation_demo.block_ports(2, 65500)


@pytest.fixture
def demo_plan(cli_env, monkeypatch) -> federation_demo.DemoPlan:
    # Settings the demo was started with that must not leak into its instances.
    monkeypatch.setenv("COPNET_MONGODB_URI", "mongodb://elsewhere:27017")
    monkeypatch.setenv("COPNET_NATS_URL", "nats://elsewhere:4222")
    monkeypatch.setenv("COPNET_REGION", "north")
    monkeypatch.setenv("COPNET_LOG_LEVEL", "WARNING")
    return federation_demo.plan_demo(load_settings(), federation_demo.free_ports)


def test_the_hub_and_each_region_run_their_own_embedded_stack_in_their_own_data_directory(demo_plan, cli_env):
    hub, regions = demo_plan.hub, demo_plan.regions
    assert hub.settings.instance == "hub" and hub.settings.region == "hub"
    assert hub.settings.linked_regions == federation_demo.REGIONS
    assert [r.settings.region for r in regions] == list(federation_demo.REGIONS)
    assert all(r.settings.instance == "region" for r in regions)
    directories = {i.settings.data_dir.resolve() for i in demo_plan.instances}
    assert directories == {(cli_env / "data" / "federation-demo" / name).resolve()
                           for name in ("hub", *federation_demo.REGIONS)}
    for instance in demo_plan.instances:
        assert {spec.name for spec in instance.plan.infrastructure} == {"mongodb", "nats"}
        assert "elsewhere" not in instance.plan.mongodb_uri + instance.plan.nats_url
        assert instance.settings.log_level == "WARNING"  # what the demo was started with, kept
    assert [s.name for s in hub.plan.services] == ["statewide"]
    assert len({i.plan.mongodb_uri for i in demo_plan.instances}) == 3


def test_each_region_links_to_the_hub_with_the_credentials_the_hub_keeps_for_it(demo_plan):
    hub = demo_plan.hub.settings
    for region in demo_plan.regions:
        user, password = federation_nats.region_credentials(hub, region.name)
        assert region.settings.hub_leaf_url == f"nats-leaf://127.0.0.1:{hub.embedded_leaf_port}"
        assert region.settings.hub_leaf_user == user
        assert region.settings.hub_leaf_password.get_secret_value() == password
        assert region.settings.public_url == region.gateway_url


def test_every_process_is_named_for_its_instance_under_one_manager(demo_plan):
    names = [spec.name for spec in demo_plan.specs()]
    assert len(names) == len(set(names))
    assert {"hub.nats", "hub.statewide", "hub.gateway", "bay-area.share", "southern.gateway"} <= set(names)
    assert demo_plan.infrastructure() == {f"{i}.{p}" for i in ("hub", *federation_demo.REGIONS)
                                          for p in ("mongodb", "nats")}
    assert demo_plan.gateway_urls()[0] == demo_plan.hub.gateway_url
    for region in demo_plan.regions:
        services = [spec for spec in region.specs() if spec.name != f"{region.name}.gateway"]
        assert all(spec.env["COPNET_REGION"] == region.name for spec in services if spec.env)


def occupied_port(low: int, high: int) -> socket.socket:
    """A listening socket on some port in [low, high)."""
    for port in range(low, high):
        occupier = socket.socket()
        try:
            occupier.bind(("127.0.0.1", port))
        except OSError:
            occupier.close()
            continue
        occupier.listen()
        return occupier
    raise AssertionError(f"no port free in {low}-{high}")


def test_the_demo_refuses_a_busy_port_naming_its_process(cli_env, monkeypatch):
    monkeypatch.setattr(runner, "run_stack", lambda *a, **k: pytest.fail("the demo started"))
    with occupied_port(41080, 41980) as occupier:
        port = occupier.getsockname()[1]
        base = port - federation_demo.PORT_OFFSETS["gateway_port"]
        result = CliRunner().invoke(app, ["federation-demo", "--port-base", str(base)])
    assert result.exit_code == 2, result.output
    assert f"port {port} on 127.0.0.1 is already in use, needed by hub.gateway" in result.stderr


# -- copnet up --hub ----------------------------------------------------------------------------------

def test_up_hub_refuses_to_seed(cli_env, monkeypatch):
    monkeypatch.setattr(runner, "run_stack", lambda *a, **k: pytest.fail("copnet up started the stack"))
    result = CliRunner().invoke(app, ["up", "--hub", "--seed", "demo"])
    assert result.exit_code == 2
    assert "a hub has none of its own" in result.stderr


def test_up_hub_runs_the_hubs_plan(cli_env, monkeypatch):
    started = {}

    def run_stack(specs, infrastructure, gateway_url, after_ready, **kwargs):
        started.update(names=[spec.name for spec in specs], infrastructure=infrastructure)
        return 0

    monkeypatch.setattr(runner, "run_stack", run_stack)
    monkeypatch.setenv("COPNET_REGION", "north")  # --hub: the hub's own name, whatever is set
    monkeypatch.setenv("COPNET_STATEWIDE_PORT", str(stack.free_port()))
    monkeypatch.setenv("COPNET_EMBEDDED_LEAF_PORT", str(stack.free_port()))
    result = CliRunner().invoke(app, ["up", "--hub"])
    assert result.exit_code == 0, result.output
    assert started["names"] == ["mongodb", "nats", "statewide", "gateway"]
    assert started["infrastructure"] == {"mongodb", "nats"}
    assert "statewide hub" in result.stdout


def test_the_hub_says_how_a_region_links():
    hub = load_settings(instance="hub", region="hub", hub_regions="north,south", embedded_leaf_port=7499)
    text = "\n".join(hub_link_lines(hub))
    assert "nats-leaf://127.0.0.1:7499" in text and "COPNET_HUB_LEAF_URL" in text
    assert "north, south" in text and "copnet hub region credentials NAME" in text
    alone = "\n".join(hub_link_lines(load_settings(instance="hub", region="hub")))
    assert "no region may link yet: set COPNET_HUB_REGIONS" in alone
