"""oneroster: reading a OneRoster 1.1 CSV bundle into a RosterBatch."""

import pathlib

import pytest

from copnet import RosterAffiliation, RosterOrganization
from copnet.kernel.errors import InvalidArgument
from copnet.testing import scope
from copnet_plugins import oneroster
from copnet_plugins.oneroster import SOURCE_KEY, Settings, derive_id, grade_bands, read_bundle

FIXTURES = pathlib.Path(__file__).parents[1] / "fixtures" / "oneroster"
COUNTY = "or-lake-coe"
ORGS_HEADER = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
USERS_HEADER = ("sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,"
                "familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n")
ORGS = ORGS_HEADER + "d1,,,Unified,district,0600001,\ns1,,,Elementary,school,060000100001,d1\n"


def bundle() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in FIXTURES.glob("*.csv")}


def user(sourced_id, role="teacher", orgs="s1", email=None, grades="", username="", enabled="true", status=""):
    email = f"{sourced_id}@unified.org" if email is None else email
    return (f"{sourced_id},{status},,{enabled},\"{orgs}\",{role},{username},,Given,{sourced_id.title()},,,{email},,,,"
            f"\"{grades}\",\n")


def read(users: str, orgs: str = ORGS, **files) -> oneroster.RosterBatch:
    contents = {"orgs.csv": orgs.encode(), "users.csv": (USERS_HEADER + users).encode()}
    contents.update({name.replace("_", "."): text.encode() for name, text in files.items()})
    return read_bundle(contents, Settings(parent_organization_id=COUNTY))


@pytest.fixture(scope="module")
def batch():
    return read_bundle(bundle(), Settings(parent_organization_id=COUNTY))


def test_districts_then_schools_with_codes_under_the_county_office(batch):
    assert batch.organizations == [
        RosterOrganization("or-dist-cwusd", "Clearwater Unified School District", "district", COUNTY, "0612345"),
        RosterOrganization("or-dist-pvesd", "Pine Valley Elementary School District", "district", COUNTY, "0698765"),
        RosterOrganization("or-sch-harbor", "Harbor View Elementary", "school", "or-dist-cwusd", "061234500101"),
        RosterOrganization("or-sch-cwms", "Clearwater Middle School", "school", "or-dist-cwusd", "061234500102"),
        RosterOrganization("or-sch-pines", "Pine Valley Elementary", "school", "or-dist-pvesd", "069876500201"),
        RosterOrganization("or-sch-ridge", "Ridgecrest Middle School", "school", "or-dist-pvesd", "069876500202"),
    ]


def test_staff_become_people_with_positions_and_grade_bands(batch):
    people = {person.id: person for person in batch.people}
    assert len(people) == 12
    assert people["or-t-1001"].name == "Maria Alvarez" and people["or-t-1001"].grade_bands == ("K-2",)
    assert people["or-t-1006"].name == "Tomás Herrera"
    assert people["or-a-2001"].grade_bands == ()
    positions = {(a.person_id, a.organization_id): a.position for a in batch.affiliations}
    assert positions[("or-a-2001", "or-sch-harbor")] == "site_admin"
    assert positions[("or-a-2002", "or-dist-cwusd")] == "district_admin"
    assert positions[("or-aide-3001", "or-sch-pines")] == "teacher"
    # Two schools in orgSourcedIds: two affiliations.
    assert positions[("or-t-1004", "or-sch-cwms")] == positions[("or-t-1004", "or-sch-harbor")] == "teacher"
    # A department stands for its school.
    [lee] = [p for p in batch.people if p.name == "Hannah Lee"]
    assert positions[(lee.id, "or-sch-cwms")] == "teacher"
    assert {a.person_id for a in batch.affiliations} == set(people)


def test_students_guardians_and_tobedeleted_rows_are_never_imported_nor_reported(batch):
    everything = repr(batch)
    for sourced_id in ("s-5001", "s-5002", "s-5003", "g-6001", "t-1099", "sch-closed", "Old Mill"):
        assert sourced_id not in everything


def test_bad_rows_are_reported_with_file_row_and_reason(batch):
    assert [(e.file, e.row) for e in batch.errors] == [
        ("orgs.csv", 10), ("orgs.csv", 11), ("users.csv", 19), ("users.csv", 20), ("users.csv", 21),
        ("users.csv", 22)]
    messages = [e.message for e in batch.errors]
    assert "parentSourcedId 'dist-unknown' is not a district" in messages[0]
    assert "type 'campus'" in messages[1]
    assert messages[2].startswith("t-1010: no usable email")
    assert "sch-gone" in messages[3] and "left out" in messages[3]
    assert "role principal" in messages[4]
    assert "appears again (first on row 2)" in messages[5]


def test_reading_the_same_bundle_twice_gives_the_same_batch(batch):
    assert read_bundle(bundle(), Settings(parent_organization_id=COUNTY)) == batch


def test_ids_are_deterministic_safe_and_distinct():
    assert derive_id("or", "t-1001") == "or-t-1001"
    upper, lower = derive_id("or", "T-1001"), derive_id("or", "t-1001")
    assert upper != lower and upper.startswith("or-t-1001-")
    guid = "{5A0F2C1E-9B7D-4E11-8C3A-2F6D0B9E7A41}"
    assert derive_id("or", guid) == derive_id("or", guid)
    long_id = "x" * 200
    for value in (upper, derive_id("or", guid), derive_id("or", long_id), derive_id("lake", "a b/c")):
        assert oneroster.re.fullmatch(r"[a-z0-9][a-z0-9-]{1,62}", value), value
    assert derive_id("or", "x" * 200) != derive_id("or", "x" * 199)


def test_grade_codes_become_bands():
    assert grade_bands("KG,01,02,03") == ("K-2", "3-5")
    assert grade_bands("PK, 07 ,12,13,Other") == ("6-8", "9-12")
    assert grade_bands("") == ()
    assert grade_bands("TK,4") == ("K-2", "3-5")


def test_a_utf8_bom_and_header_case_are_accepted():
    orgs = "\ufeff" + ORGS.replace("sourcedId", "SourcedID")
    batch = read(user("t1"), orgs=orgs)
    assert [o.id for o in batch.organizations] == ["or-d1", "or-s1"] and batch.errors == []


def test_missing_files_and_columns_are_reported_not_raised():
    batch = read_bundle({"users.csv": USERS_HEADER.encode()}, None)
    assert [(e.file, e.row) for e in batch.errors] == [("orgs.csv", 0)]
    batch = read_bundle({"orgs.csv": b"sourcedId,name\n", "users.csv": USERS_HEADER.encode()}, None)
    assert batch.errors[0].row == 1 and "type" in batch.errors[0].message
    batch = read_bundle({"orgs.csv": b"\xff\xfe\x00", "users.csv": USERS_HEADER.encode()}, None)
    assert "not UTF-8" in batch.errors[0].message


def test_email_from_username_and_domain():
    contents = {"orgs.csv": ORGS.encode(), "users.csv": (USERS_HEADER + user("t1", email="", username="jdoe") +
                                                        user("t2", email="", username="kim@unified.org")).encode()}
    batch = read_bundle(contents, Settings(email_domain="unified.org"))
    assert [p.email for p in batch.people] == ["jdoe@unified.org", "kim@unified.org"]
    assert read_bundle(contents, None).errors[0].message.startswith("t1: no usable email (or set email_domain")


def test_disabled_users_are_skipped_and_duplicate_emails_reported():
    batch = read(user("t1", enabled="false") + user("t2", email="same@unified.org") +
                 user("t3", email="SAME@unified.org"))
    assert [p.id for p in batch.people] == ["or-t2"]
    assert batch.errors[0].row == 4 and "also t2's" in batch.errors[0].message


def test_position_mapping_overrides_and_skip():
    contents = {"orgs.csv": ORGS.encode(),
                "users.csv": (USERS_HEADER + user("t1", role="aide") + user("t2", role="teacher", orgs="d1") +
                              user("t3", role="administrator")).encode()}
    settings = Settings(position_mapping={"aide": "skip", "teacher@district": "coach", "administrator": "specialist"})
    batch = read_bundle(contents, settings)
    assert [(a.person_id, a.position) for a in batch.affiliations] == [("or-t2", "coach"), ("or-t3", "specialist")]
    assert [e.message for e in batch.errors] == [
        "t1: no school or district of orgs.csv to affiliate with (orgs: none); the person is left out"]


def test_unmapped_org_types_are_reported_and_a_school_needs_a_district():
    orgs = ORGS + "st,,,California,state,CA,\ns2,,,Lost School,school,,st\nd9,,,Bad Code,district,not valid!,\n"
    batch = read(user("t1"), orgs=orgs)
    assert [o.id for o in batch.organizations] == ["or-d1", "or-d9", "or-s1"]
    assert [o.code for o in batch.organizations if o.id == "or-d9"] == [""]
    messages = {e.row: e.message for e in batch.errors}
    assert "a state org is not imported" in messages[4]
    assert "is not a district" in messages[5]
    assert "imported without a code" in messages[6]


def test_enrollments_add_schools_and_class_grades_for_staff_only():
    orgs = ORGS + "s2,,,Middle,school,,d1\n"
    classes = "sourcedId,status,dateLastModified,title,grades,schoolSourcedId\nc1,,,Math 7,07,s2\n"
    enrollments = ("sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role\n"
                   "e1,,,c1,s2,t1,teacher\ne2,,,c1,s2,kid,student\n")
    batch = read(user("t1", grades="03") + user("kid", role="student"), orgs=orgs, classes_csv=classes,
                 enrollments_csv=enrollments)
    assert [p.grade_bands for p in batch.people] == [("3-5", "6-8")]
    assert batch.affiliations == [RosterAffiliation("or-t1", "or-s1", "teacher"),
                                  RosterAffiliation("or-t1", "or-s2", "teacher")]
    assert "kid" not in repr(batch)


def test_oneroster_1_2_roles_file_and_students_found_there():
    users = user("t1", role="", orgs="") + user("kid", role="", orgs="")
    roles = ("sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId\n"
             "r1,,,t1,primary,administrator,,,s1\nr2,,,kid,primary,student,,,s1\n")
    batch = read(users, roles_csv=roles)
    assert batch.affiliations == [RosterAffiliation("or-t1", "or-s1", "site_admin")]
    assert [p.id for p in batch.people] == ["or-t1"] and batch.errors == []


def test_rows_are_numbered_as_an_editor_numbers_lines():
    orgs = ORGS + 's2,,,"Two-line\nname",school,,d1\ns3,,,Orphan,school,,nowhere\n'
    batch = read(user("t1"), orgs=orgs)
    assert [(e.file, e.row) for e in batch.errors] == [("orgs.csv", 6)]


def test_a_row_with_too_many_values_is_reported():
    batch = read(user("t1").rstrip("\n") + ",extra,values\n" + user("t2"))
    assert [p.id for p in batch.people] == ["or-t2"]
    assert batch.errors[0].row == 2 and "values" in batch.errors[0].message


# -- through the plugin host, as the plugins service calls it ------------------------------------
@pytest.fixture
def testbed(plugin_testbed):
    plugin_testbed.load("oneroster")
    return plugin_testbed


def test_the_source_reads_with_the_importing_region_settings(testbed):
    testbed.configure("or-north", {"parent_organization_id": COUNTY, "id_prefix": "north"})
    batch = testbed.read_roster(SOURCE_KEY, bundle(), scope=scope("or-north"))
    assert batch.organizations[0].id == "north-dist-cwusd" and batch.organizations[0].parent_id == COUNTY


@pytest.mark.parametrize(("settings", "field"), [
    ({"id_prefix": "Or"}, "settings.id_prefix"),
    ({"email_domain": "not a domain"}, "settings.email_domain"),
    ({"position_mapping": {"principal": "site_admin"}}, "settings.position_mapping"),
    ({"position_mapping": {"teacher": "boss"}}, "settings.position_mapping"),
    ({"parent": "x"}, "settings.parent"),
])
def test_invalid_settings_are_refused_naming_the_field(testbed, settings, field):
    with pytest.raises(InvalidArgument) as caught:
        testbed.configure("or-north", settings)
    assert any(v.field.startswith(field) for v in caught.value.fields), caught.value.fields


def test_the_settings_schema_describes_every_field():
    schema = Settings.model_json_schema()
    assert all(prop.get("description") for prop in schema["properties"].values())


@pytest.mark.parametrize("names", [("export/users.csv", "old/users.csv"), ("users.csv", "USERS.csv"),
                                   ("a\\users.csv", "b/Users.CSV")])
def test_two_files_of_the_same_name_are_refused_not_one_silently_kept(names):
    staff = USERS_HEADER + user("t1")
    other = USERS_HEADER + user("t2")
    batch = read_bundle({"orgs.csv": ORGS.encode(), names[0]: staff.encode(), names[1]: other.encode()},
                        Settings(parent_organization_id=COUNTY))
    assert batch.people == []
    [error] = batch.errors
    assert (error.file, error.row) == ("users.csv", 0)
    assert all(name in error.message for name in names) and "given 2 times" in error.message


def test_a_student_sharing_a_sourced_id_is_never_named_in_the_report():
    # The duplicate check used to run before the role filter: a student's sourcedId repeated (or a
    # staff row repeating it) ended up in the report.
    batch = read(user("stu-7", role="student") + user("stu-7", role="student") + user("t1"))
    assert [p.id for p in batch.people] == ["or-t1"]
    assert not any("stu-7" in e.message for e in batch.errors), batch.errors
