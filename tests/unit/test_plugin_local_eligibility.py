"""local-eligibility: districts, positions and grade bands; messages; settings validation."""

import pytest

from copnet import SignupAffiliation
from copnet.kernel.errors import InvalidArgument
from copnet.testing import scope, signup_attempt
from copnet_plugins import local_eligibility

REGION = "le-north"
OTHER_REGION = "le-south"
COUNTY = "le-lake-coe"
DISTRICT_A, DISTRICT_B = "le-clearwater", "le-pinevalley"
SCHOOL_A, SCHOOL_B = "le-harbor", "le-ridge"


def at(school: str, position: str = "teacher") -> SignupAffiliation:
    district = DISTRICT_A if school == SCHOOL_A else DISTRICT_B
    return SignupAffiliation(organization_id=school, position=position,
                             scope=scope(REGION, COUNTY, district, school))


def attempt(*affiliations, bands=("K-2",), kind="plc", region=REGION):
    return signup_attempt(region_id=region, county_office_id=COUNTY, community_kind=kind,
                          affiliations=affiliations or [at(SCHOOL_A)], person_grade_bands=bands)


@pytest.fixture
def testbed(plugin_testbed):
    plugin_testbed.load("local-eligibility")
    return plugin_testbed


def test_no_rules_let_everyone_through(testbed):
    testbed.configure(REGION, {})
    assert testbed.validate_registration(attempt(at(SCHOOL_B, "coach"), bands=())) == []


def test_a_district_matches_through_any_affiliation_scope(testbed):
    testbed.configure(REGION, {"allowed_district_ids": [DISTRICT_A]})
    assert testbed.validate_registration(attempt(at(SCHOOL_A))) == []
    assert testbed.validate_registration(attempt(at(SCHOOL_B), at(SCHOOL_A))) == []
    assert testbed.validate_registration(attempt(at(SCHOOL_B))) == [
        "This region's communities are open only to educators in district le-clearwater."]


def test_district_and_position_must_hold_on_one_affiliation(testbed):
    testbed.configure(REGION, {"allowed_district_ids": [DISTRICT_A], "allowed_positions": ["teacher", "coach"]})
    assert testbed.validate_registration(attempt(at(SCHOOL_A, "coach"))) == []
    # A teacher in the wrong district who is a site admin in the right one does not pass.
    [reason] = testbed.validate_registration(attempt(at(SCHOOL_B, "teacher"), at(SCHOOL_A, "site_admin")))
    assert reason == ("This region's communities are open only to teachers or coaches in district "
                      "le-clearwater.")


def test_grade_bands_must_overlap_unless_the_position_is_exempt(testbed):
    testbed.configure(REGION, {"allowed_grade_bands": ["6-8", "9-12"]})
    assert testbed.validate_registration(attempt(bands=("6-8",))) == []
    assert testbed.validate_registration(attempt(bands=("k_2", "9_12"))) == []  # proto labels count too
    assert testbed.validate_registration(attempt(bands=("K-2",))) == [
        "This region's communities are open only to educators teaching grades 6-8 or 9-12."]
    assert testbed.validate_registration(attempt(bands=())) != []
    # A site administrator joining their school's team teaches no band and still passes.
    assert testbed.validate_registration(attempt(at(SCHOOL_A, "site_admin"), bands=())) == []


def test_exempt_positions_are_a_setting(testbed):
    testbed.configure(REGION, {"allowed_grade_bands": ["6-8"], "grade_band_exempt_positions": []})
    assert testbed.validate_registration(attempt(at(SCHOOL_A, "site_admin"), bands=())) != []


def test_only_the_named_community_kinds_are_restricted(testbed):
    testbed.configure(REGION, {"allowed_district_ids": [DISTRICT_A], "community_kinds": ["math_team"]})
    assert testbed.validate_registration(attempt(at(SCHOOL_B), kind="plc")) == []
    assert testbed.validate_registration(attempt(at(SCHOOL_B), kind="math_team")) != []


def test_the_message_template_fills_its_placeholders(testbed):
    testbed.configure(REGION, {"allowed_positions": ["specialist"], "allowed_grade_bands": ["3-5"],
                               "message": "Sorry: {community_id} is for {positions} ({grade_bands}); "
                                          "ask your {{coach}}."})
    assert testbed.validate_registration(attempt(at(SCHOOL_A, "teacher"))) == [
        "Sorry: community-1 is for specialist (3-5); ask your {coach}."]


def test_the_rules_apply_only_where_the_plugin_is_enabled(testbed):
    testbed.configure(REGION, {"allowed_district_ids": ["nowhere"]})
    assert testbed.validate_registration(attempt(region=REGION)) != []
    assert testbed.validate_registration(attempt(region=OTHER_REGION)) == []


def test_a_county_office_override_replaces_the_region_rules(testbed):
    testbed.configure(REGION, {"allowed_district_ids": ["nowhere"]})
    testbed.configure(COUNTY, {}, region_id=REGION)
    assert testbed.validate_registration(attempt()) == []


def test_without_settings_nothing_is_refused():
    assert local_eligibility.refusal(attempt(), None) is None


@pytest.mark.parametrize(("settings", "field"), [
    ({"allowed_positions": ["principal"]}, "settings.allowed_positions"),
    ({"allowed_grade_bands": ["K-5"]}, "settings.allowed_grade_bands"),
    ({"allowed_district_ids": [" "]}, "settings.allowed_district_ids"),
    ({"community_kinds": ["club"]}, "settings.community_kinds"),
    ({"message": "Only {district} members"}, "settings.message"),
    ({"message": "Unclosed {requirement"}, "settings.message"),
    ({"message": ""}, "settings.message"),
    ({"districts": ["x"]}, "settings.districts"),
])
def test_invalid_settings_are_refused_naming_the_field(testbed, settings, field):
    with pytest.raises(InvalidArgument) as caught:
        testbed.configure(REGION, settings)
    assert any(v.field.startswith(field) for v in caught.value.fields), caught.value.fields


def test_the_settings_schema_describes_every_field():
    schema = local_eligibility.Settings.model_json_schema()
    assert all(prop.get("description") for prop in schema["properties"].values())


def test_it_fails_closed_a_failing_check_refuses_and_never_switches_the_rules_off(testbed, monkeypatch):
    testbed.configure(REGION, {"allowed_district_ids": [DISTRICT_A]})

    def broken(attempt, settings):
        raise RuntimeError("a bug in the rules")

    monkeypatch.setattr(local_eligibility, "refusal", broken)
    for _ in range(testbed.host.failure_limit + 2):
        [reason] = testbed.validate_registration(attempt(at(SCHOOL_A)))
        assert "could not be checked" in reason
    assert testbed.auto_disabled == [] and testbed.host.is_enabled("local-eligibility", scope(REGION))
