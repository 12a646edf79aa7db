"""A third-party plugin written from docs/plugins.md alone (tests/fixtures/thirdparty), in a real stack:
discovered, configured per region, and used in that region only.

The plugin is not installed into the shared environment: its package and a generated
`<name>-<version>.dist-info` (METADATA + entry_points.txt, what pip would write) go into a temp
directory on this module's own stack's PYTHONPATH, so every service process finds its entry point
exactly as it would find an installed one. Ids start with `tp` (own stack, but kept unique anyway).
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
import tomllib
from pathlib import Path

import grpc
import pytest
from copnet.kernel.timestamps import timestamp
from copnet.membership.v1 import membership_pb2

from tests.integration.http import request
from tests.integration.signup_world import BANDS, World
from tests.support.stack import RunningStack, settings_for_tests

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "thirdparty"
PLUGIN = "grade-band-check"


def install_into(site: Path) -> None:
    """What `pip install` leaves in site-packages for the fixture project, written by hand."""
    project = tomllib.loads((FIXTURE / "pyproject.toml").read_text())["project"]
    for package in tomllib.loads((FIXTURE / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]:
        shutil.copytree(FIXTURE / package, site / package, ignore=shutil.ignore_patterns("__pycache__"))
    dist_info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\n"
                                        f"Version: {project['version']}\nSummary: {project['description']}\n")
    lines = ["[copnet]", *(f"{name} = {value}" for name, value in project["entry-points"]["copnet"].items())]
    (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def tp_stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("thirdparty-stack")
    site = root / "site"
    site.mkdir()
    install_into(site)
    running = RunningStack(settings_for_tests(root / "data"), root, extra_pythonpath=[site])
    try:
        running.start_infrastructure().start_services().start_gateway()
        yield running
    finally:
        running.stop()


class Region:
    """One region (its own state, so two never share an ancestor below the root) with a K-2 community."""

    def __init__(self, stack, prefix: str):
        self.world = World(stack, prefix)
        self.id = f"{prefix}-region"
        self.lead = stack.token("regional_lead", self.id, person=f"{prefix}-lead")
        self.community = f"{prefix}-k2"
        self.world.membership(self.world.admin).CreateCommunity(membership_pb2.CreateCommunityRequest(
            community_id=self.community, name="K-2 circle", kind=membership_pb2.COMMUNITY_KIND_PLC,
            host_organization_id=self.world.district, capacity=500, grade_bands=[BANDS["k_2"]],
            signup_window=self._window()))
        self.world.change_status(self.community, "open")
        self._people = itertools.count()

    @staticmethod
    def _window() -> membership_pb2.SignupWindow:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        return membership_pb2.SignupWindow(open_time=timestamp(now - dt.timedelta(days=1)),
                                           close_time=timestamp(now + dt.timedelta(days=30)))

    def sign_up(self, band: str) -> grpc.RpcError | None:
        """A fresh teacher of `band` signs up for the K-2 community: None, or the refusal."""
        person = self.world.person(f"{band.replace('_', '-')}-{next(self._people)}", bands=(band,))
        try:
            self.world.register(self.community, person)
        except grpc.RpcError as error:
            return error
        return None


@pytest.fixture(scope="module")
def regions(tp_stack):
    north, south = Region(tp_stack, "tpa"), Region(tp_stack, "tpb")
    yield north, south
    north.world.close()
    south.world.close()


def put_config(stack, region: Region, body: dict, token: str | None = None):
    return request("PUT", f"{stack.gateway_url}/api/v1/regions/{region.id}/plugins/{PLUGIN}", json_body=body,
                   token=token or region.lead)


def test_the_plugin_is_discovered_with_what_its_package_declares(tp_stack):
    reply = request("GET", f"{tp_stack.gateway_url}/api/v1/plugins")
    assert reply.status == 200, reply.text
    listed = {plugin["name"]: plugin for plugin in reply.json()["items"]}
    plugin = listed[PLUGIN]
    assert plugin["version"] == "0.1.0"
    assert plugin["title"] == ("Grade-band check: a planning session type, and sign-ups only for a community's "
                               "grade bands.")
    assert set(plugin["hooks"]) == {"register_session_types", "validate_registration"}
    assert set(plugin["settings_schema"]["properties"]) == {"session_title", "require_matching_grade_band"}
    one = request("GET", f"{tp_stack.gateway_url}/api/v1/plugins/{PLUGIN}")
    assert one.status == 200 and one.json()["name"] == PLUGIN


def test_its_settings_are_validated_and_only_the_regions_lead_configures_it(tp_stack, regions):
    north, south = regions
    typo = put_config(tp_stack, north, {"enabled": True, "settings": {"session_titel": "x"}})
    assert typo.status == 422, typo.text
    assert "settings.session_titel" in typo.text
    foreign = put_config(tp_stack, south, {"enabled": True, "settings": {}}, token=north.lead)
    assert foreign.status == 403, foreign.text


def test_enabled_in_one_region_it_refuses_sign_ups_there_and_nowhere_else(tp_stack, regions):
    north, south = regions
    reply = put_config(tp_stack, north, {"enabled": True, "settings": {"session_title": "K-2 planning"}})
    assert reply.status == 200, reply.text
    assert reply.json()["enabled"] is True
    assert reply.json()["settings"]["session_title"] == "K-2 planning"

    # The change reaches membership by event within seconds: until then sign-ups go through.
    refusals = []

    def refused() -> bool:
        refusals.append(north.sign_up("6_8"))
        return refusals[-1] is not None

    tp_stack.wait_for(refused, 30, "the plugin's veto in the north region")
    refusal = refusals[-1]
    assert refusal.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert PLUGIN in refusal.details() and "K-2" in refusal.details()

    assert north.sign_up("k_2") is None        # the community's own grade band still signs up
    assert south.sign_up("6_8") is None        # the south region has no configuration: no rule there

    listed = {p["name"]: p for p in request("GET", f"{tp_stack.gateway_url}/api/v1/plugins").json()["items"]}
    assert [(e["organization_id"], e["enabled"]) for e in listed[PLUGIN]["enabled_in"]] == [(north.id, True)]


def test_its_settings_change_what_it_does_without_a_restart(tp_stack, regions):
    north, _ = regions
    reply = put_config(tp_stack, north, {"enabled": True, "settings": {"require_matching_grade_band": False}})
    assert reply.status == 200, reply.text
    tp_stack.wait_for(lambda: north.sign_up("6_8") is None, 30, "the relaxed rule in the north region")
    history = request("GET", f"{tp_stack.gateway_url}/api/v1/regions/{north.id}/plugins/{PLUGIN}/history",
                      token=north.lead)
    assert history.status == 200, history.text
