"""The plugin author's kit: docs/plugins.md agrees with the hookspecs, the tutorial is what the
third-party fixture plugin is made of, the template is a working plugin project (its own tests,
run in a process of their own, are in tests/integration/test_plugin_template.py), and the
copnet.testing fixtures behave like the services' plugin host (settings, scope, isolation)."""

from __future__ import annotations

import inspect
import re
import threading
import tomllib
from pathlib import Path

import pytest

from copnet import PluginSettings, SessionType, hookimpl
from copnet.kernel import hookspecs
from copnet.kernel.errors import InvalidArgument
from copnet.kernel.plugin_host import PluginRefused
from copnet.testing import PluginTestbed, event_view, scope, signup_attempt

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "plugins.md").read_text()
TEMPLATE = ROOT / "plugins" / "template"
THIRDPARTY = ROOT / "tests" / "fixtures" / "thirdparty"


def _hookspecs() -> dict[str, inspect.Signature]:
    return {name: inspect.signature(function) for name, function in vars(hookspecs).items()
            if callable(function) and hasattr(function, f"{hookspecs.PROJECT}_spec")}


def _documented_hooks() -> dict[str, list[str]]:
    """`### \\`hook(arg, ...)\\`` headings of the hook reference -> their argument names."""
    reference = DOC[DOC.index("\n## Hook reference"):]
    reference = reference[:reference.index("\n## ", 1)]
    headings = re.findall(r"^### `(\w+)\(([^)]*)\)`$", reference, re.M)
    assert len(headings) == len(re.findall(r"^### ", reference, re.M)), "a reference heading is not `hook(args)`"
    return {name: [arg.strip() for arg in args.split(",") if arg.strip()] for name, args in headings}


# -- the reference matches the contract (datasette's test of its plugin hook docs, for copnet) ---
def test_every_hook_is_documented_and_nothing_else():
    assert sorted(_documented_hooks()) == sorted(_hookspecs())


@pytest.mark.parametrize("hook", sorted(_hookspecs()))
def test_documented_signature_matches_the_hookspec(hook):
    documented = _documented_hooks().get(hook)
    assert documented is not None, f"{hook} is missing from docs/plugins.md's hook reference"
    assert documented == list(_hookspecs()[hook].parameters), f"docs/plugins.md documents {hook}({', '.join(documented)})"


def test_the_documented_hookspec_version_is_the_current_one():
    assert f"`COPNET_HOOKSPEC_VERSION = {hookspecs.HOOKSPEC_VERSION}`" in DOC
    assert f"COPNET_HOOKSPEC_VERSION = {hookspecs.HOOKSPEC_VERSION}\n" in DOC


def test_every_pluginapi_type_is_in_the_types_table():
    import copnet
    table = DOC[DOC.index("\n## The types in `copnet.pluginapi`"):DOC.index("\n## Settings and secrets")]
    first_cells = "".join(re.findall(r"^\|[^|]*", table, re.M))
    documented = set(re.findall(r"`(\w+)`", first_cells))
    exported = {name for name in copnet.__all__ if name[0].isupper()} | {"hookimpl"}
    assert exported - documented == set()


# -- the tutorial is the third-party plugin ---------------------------------------------------
def _tutorial_block(step: str, language: str) -> str:
    tutorial = DOC[DOC.index("## Tutorial"):]
    return re.search(rf"```{language}\n(.*?)```", tutorial[tutorial.index(f"### {step}"):], re.S).group(1)


def test_the_thirdparty_plugin_is_the_tutorial_and_nothing_else():
    assert (THIRDPARTY / "pyproject.toml").read_text() == _tutorial_block("2.", "toml")
    assert (THIRDPARTY / "copnet_gradeband_check" / "__init__.py").read_text() == (
        _tutorial_block("3.", "python") + "\n\n" + _tutorial_block("4.", "python"))
    assert (THIRDPARTY / "tests" / "test_gradeband_check.py").read_text() == _tutorial_block("5.", "python")


# -- the template ------------------------------------------------------------------------------
def test_the_template_declares_its_entry_point_and_the_module_exists():
    project = tomllib.loads((TEMPLATE / "pyproject.toml").read_text())
    entry_points = project["project"]["entry-points"]["copnet"]
    assert entry_points == {"district-calendar-note": "copnet_district_calendar_note"}
    assert (TEMPLATE / "copnet_district_calendar_note" / "__init__.py").is_file()
    assert project["tool"]["setuptools"]["packages"] == ["copnet_district_calendar_note"]


@pytest.fixture
def template_plugin(monkeypatch):
    monkeypatch.syspath_prepend(str(TEMPLATE))
    import copnet_district_calendar_note
    copnet_district_calendar_note.NOTES.clear()
    return copnet_district_calendar_note


def test_the_template_loads_as_the_services_load_it(plugin_testbed, template_plugin):
    plugin_testbed.register(template_plugin, "district-calendar-note", version="0.1.0")
    [description] = plugin_testbed.describe()
    assert description.title == ("District calendar note: a calendar review session type, and a note kept for "
                                 "every session scheduled.")
    assert description.hooks == ("react_to_event", "register_session_types", "subscribed_event_types")
    assert description.secret_fields == ("calendar_token",)
    assert set(description.settings_schema["properties"]) == {"note", "default_duration_minutes", "calendar_token"}


def test_the_fixtures_call_the_template_per_region(plugin_testbed, template_plugin):
    plugin_testbed.register(template_plugin, "district-calendar-note")
    plugin_testbed.configure("region-north", {"note": "North note."})
    plugin_testbed.configure("region-south", {"note": "South note."})
    north = plugin_testbed.session_types(scope("region-north", "county-lake"))
    south = plugin_testbed.session_types(scope("region-south"))
    assert north[0].description.endswith("North note.") and south[0].description.endswith("South note.")
    event = event_view("copnet.scheduling.session.scheduled", subject="s-1", scope=scope("region-south"))
    assert plugin_testbed.deliver(event) == ["district-calendar-note"]
    assert list(template_plugin.NOTES) == ["region-south"]


# -- the fixtures behave like production -------------------------------------------------------
class Veto:
    """Vetoes every sign-up, or raises/hangs when told to."""

    COPNET_HOOKSPEC_VERSION = 2

    class Settings(PluginSettings):
        reason: str = "Not this year."
        mode: str = "veto"

    def __init__(self):
        self.release = threading.Event()

    @hookimpl
    def validate_registration(self, attempt, settings, context):
        if settings.mode == "raise":
            raise RuntimeError("boom")
        if settings.mode == "hang":
            self.release.wait(30)
        return f"{settings.reason} ({context.organization_id})"


@pytest.fixture
def veto_bed():
    testbed = PluginTestbed(timeout_seconds=0.2, failure_limit=3)
    plugin = Veto()
    testbed.register(plugin, "veto")
    yield testbed
    plugin.release.set()
    testbed.close()


def test_a_veto_comes_from_the_configuration_in_scope(veto_bed):
    veto_bed.configure("region-north")
    veto_bed.configure("county-lake", {"reason": "County rule."}, region_id="region-north")
    assert veto_bed.validate_registration(signup_attempt(region_id="region-north")) == ["Not this year. (region-north)"]
    assert veto_bed.vetoes(signup_attempt(region_id="region-north", county_office_id="county-lake")) == [
        ("veto", "County rule. (county-lake)")]
    assert veto_bed.validate_registration(signup_attempt(region_id="region-south")) == []


def test_a_disabled_configuration_and_a_newer_revision_apply(veto_bed):
    veto_bed.configure("region-north")
    veto_bed.configure("region-north", enabled=False)
    assert veto_bed.validate_registration(signup_attempt(region_id="region-north")) == []


def test_a_raising_or_hanging_plugin_is_not_a_veto_and_is_counted(veto_bed):
    veto_bed.configure("region-north", {"mode": "raise"})
    veto_bed.configure("region-south", {"mode": "hang"})
    assert veto_bed.validate_registration(signup_attempt(region_id="region-north")) == []
    assert veto_bed.validate_registration(signup_attempt(region_id="region-south")) == []
    assert veto_bed.failures[("veto", "region-north")] == 1
    assert veto_bed.failures[("veto", "region-south")] == 1


def test_repeated_failures_switch_the_plugin_off_for_that_organization_only(veto_bed):
    veto_bed.configure("region-north", {"mode": "raise"})
    veto_bed.configure("region-south")
    for _ in range(3):
        veto_bed.validate_registration(signup_attempt(region_id="region-north"))
    assert [(plugin, org) for plugin, org, _ in veto_bed.auto_disabled] == [("veto", "region-north")]
    assert veto_bed.validate_registration(signup_attempt(region_id="region-south")) == ["Not this year. (region-south)"]


def test_invalid_settings_are_refused_naming_the_field_and_change_nothing(veto_bed):
    veto_bed.configure("region-north", {"reason": "Kept."})
    with pytest.raises(InvalidArgument, match=r"settings\.reasn") as raised:
        veto_bed.configure("region-north", {"reasn": "typo"})
    assert [v.field for v in raised.value.fields] == ["settings.reasn"]
    assert veto_bed.validate_registration(signup_attempt(region_id="region-north")) == ["Kept. (region-north)"]


def test_a_plugin_the_services_would_refuse_is_refused(plugin_testbed):
    class Misspelled:
        COPNET_HOOKSPEC_VERSION = 2

        @hookimpl
        def register_sesion_types(self):
            return []

    with pytest.raises(PluginRefused):
        plugin_testbed.register(Misspelled(), "misspelled")
    with pytest.raises(LookupError, match="no entry point 'not-installed'"):
        plugin_testbed.load("not-installed")


def test_an_installed_plugin_loads_by_entry_point_name(plugin_testbed):
    plugin_testbed.load("core-session-types")
    assert plugin_testbed.plugin_names == ["core-session-types"]


def test_events_reach_only_subscribed_plugins_enabled_in_the_events_scope(plugin_testbed):
    seen = []

    class Listener:
        COPNET_HOOKSPEC_VERSION = 2

        def __init__(self, patterns):
            self.patterns = patterns

        @hookimpl
        def subscribed_event_types(self):
            return self.patterns

        @hookimpl
        def react_to_event(self, event, context):
            seen.append((context.plugin, event.type, context.organization_id))

    plugin_testbed.register(Listener(["copnet.membership.registration.*"]), "registrations")
    plugin_testbed.register(Listener(["copnet.scheduling.*"]), "sessions")
    for plugin in ("registrations", "sessions"):
        plugin_testbed.configure("region-north", plugin=plugin)
    event = event_view("copnet.membership.registration.confirmed", scope=scope("region-north", "county-lake"))
    assert plugin_testbed.deliver(event) == ["registrations"]
    assert plugin_testbed.deliver(event_view("copnet.scheduling.session.scheduled", scope=scope("region-south"))) == []
    assert plugin_testbed.deliver(event_view("copnet.membership.registration.confirmed")) == []  # no scope
    assert seen == [("registrations", "copnet.membership.registration.confirmed", "region-north")]


def test_session_types_are_validated_like_schedulings(plugin_testbed):
    class Broken:
        COPNET_HOOKSPEC_VERSION = 2

        @hookimpl
        def register_session_types(self):
            return [{"key": "Bad Key", "title": "x", "default_duration_minutes": 60}]

    plugin_testbed.register(Broken(), "broken")
    plugin_testbed.configure("region-north")
    with pytest.raises(AssertionError, match="broken returned an invalid session type"):
        plugin_testbed.session_types(scope("region-north"))


def test_roster_sources_read_with_the_importing_organizations_settings(plugin_testbed):
    from copnet import RosterBatch, RosterOrganization

    class Source:
        key = "tiny"
        title = "Tiny"

        def read(self, files, settings):
            return RosterBatch(organizations=[RosterOrganization(id=f"{settings.prefix}{files['orgs.csv'].decode()}",
                                                                name="x", kind="school")])

    class Roster:
        COPNET_HOOKSPEC_VERSION = 2

        class Settings(PluginSettings):
            prefix: str = ""

        @hookimpl
        def register_roster_sources(self):
            return [Source()]

    plugin_testbed.register(Roster(), "roster")
    plugin_testbed.configure("region-north", {"prefix": "n-"})
    batch = plugin_testbed.read_roster("tiny", {"orgs.csv": "s1"}, scope=scope("region-north"))
    assert [o.id for o in batch.organizations] == ["n-s1"]
    with pytest.raises(LookupError, match="not enabled"):
        plugin_testbed.read_roster("tiny", {"orgs.csv": "s1"}, scope=scope("region-south"))


def test_a_plugin_on_by_default_is_delivered_to_and_reads_rosters_without_a_configuration(plugin_testbed):
    from copnet import RosterBatch, RosterOrganization

    seen = []

    class Source:
        key = "tiny"
        title = "Tiny"

        def read(self, files, settings):
            return RosterBatch(organizations=[RosterOrganization(id=f"{settings.prefix}s1", name="x", kind="school")])

    class Default:
        COPNET_HOOKSPEC_VERSION = 2
        COPNET_ENABLED_BY_DEFAULT = True

        class Settings(PluginSettings):
            prefix: str = "d-"

        @hookimpl
        def subscribed_event_types(self):
            return ["copnet.membership.*"]

        @hookimpl
        def react_to_event(self, event):
            seen.append(event.type)

        @hookimpl
        def register_roster_sources(self):
            return [Source()]

    plugin_testbed.register(Default(), "default-on")
    event = event_view("copnet.membership.registration.confirmed", scope=scope("region-north"))
    assert plugin_testbed.deliver(event) == ["default-on"]
    assert seen == ["copnet.membership.registration.confirmed"]
    batch = plugin_testbed.read_roster("tiny", {"orgs.csv": "s1"}, scope=scope("region-north"))
    assert [o.id for o in batch.organizations] == ["d-s1"]
    plugin_testbed.configure("region-south", enabled=False)
    assert plugin_testbed.deliver(event_view("copnet.membership.team.created", scope=scope("region-south"))) == []
    with pytest.raises(LookupError, match="not enabled"):
        plugin_testbed.read_roster("tiny", {"orgs.csv": "s1"}, scope=scope("region-south"))


def test_builders_make_consistent_snapshots():
    attempt = signup_attempt(region_id="r", county_office_id="c", host_organization_id="school",
                             community_grade_bands=["K-2"], team_id="t")
    assert attempt.community.scope == ("state", "r", "c", "school")
    assert attempt.community.host_organization_id == "school"
    assert attempt.person.affiliations[0].scope == attempt.community.scope
    assert (attempt.person.grade_bands, attempt.team_id) == (("K-2",), "t")
    first, second = event_view(), event_view()
    assert first.id != second.id and first.source == "copnet/membership" and first.time.tzinfo is not None
    assert isinstance(SessionType(key="ok_key", title="t", default_duration_minutes=5), SessionType)
