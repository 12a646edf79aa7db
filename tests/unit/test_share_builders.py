"""What the share service builds of each source: the allow-listed fields, from realistic source
messages, and nothing else — a facilitator, a roster count, an e-mail or a moved-by person set on
the source never reaches the SharedRecord."""

from __future__ import annotations

import datetime as dt

from copnet.kernel.federation import share_subject
from copnet.kernel.service import ServiceContext
from copnet.kernel.settings import load_settings
from copnet.kernel.timestamps import timestamp
from copnet.membership.v1 import membership_pb2
from copnet.reflection.v1 import cycles_pb2, measures_pb2, participation_pb2
from copnet.share import builders, changes, records
from copnet.share.v1 import share_pb2
from google.protobuf import json_format

NOW = dt.datetime(2026, 9, 10, 12, tzinfo=dt.UTC)
PERSON = "robert-nguyen"
EMAIL = "robert.nguyen@eastbay.example.org"


def context(**overrides) -> ServiceContext:
    return ServiceContext("share", load_settings(region="bay", **overrides), plugins=None)


def open_community(**overrides) -> membership_pb2.Community:
    community = membership_pb2.Community(
        id="bay-ratios-plc", name="Bay Area Grade 6-8 Ratios PLC", kind=membership_pb2.COMMUNITY_KIND_PLC,
        description="Middle school teachers building a shared ratio unit.", host_organization_id="eastbay-usd",
        county_office_id="alameda-coe", program_id="bay-area-math-cop", focus="Ratio and proportional reasoning",
        grade_bands=[membership_pb2.GRADE_BAND_6_8], facilitator_ids=[PERSON], capacity=24,
        signup_window=membership_pb2.SignupWindow(open_time=timestamp(NOW - dt.timedelta(days=7)),
                                                  soft_deadline=timestamp(NOW + dt.timedelta(days=14)),
                                                  close_time=timestamp(NOW + dt.timedelta(days=28))),
        eligibility=membership_pb2.Eligibility(positions=[membership_pb2.POSITION_TEACHER],
                                               organization_ids=["ca-bay-area"]),
        status=membership_pb2.COMMUNITY_STATUS_OPEN,
        team_composition=[membership_pb2.TeamSlot(position=membership_pb2.POSITION_TEACHER, count=2)],
        confirmed_count=5, waitlisted_count=2, region_id="ca-bay-area", create_time=timestamp(NOW))
    for name, value in overrides.items():
        setattr(community, name, value)
    return community


def text_of(message) -> str:
    return json_format.MessageToJson(message)


def test_a_community_is_shared_with_its_public_fields_and_seats_left():
    shared = builders.community(open_community(), "https://bay.example.org/", NOW)
    assert shared == share_pb2.SharedCommunity(
        id="bay-ratios-plc", name="Bay Area Grade 6-8 Ratios PLC", kind="plc",
        description="Middle school teachers building a shared ratio unit.", focus="Ratio and proportional reasoning",
        grade_bands=["6-8"], host_organization_id="eastbay-usd", county_office_id="alameda-coe",
        program_id="bay-area-math-cop", status="open", capacity=24, seats_available=19, waitlist_open=True,
        signup_opens=timestamp(NOW - dt.timedelta(days=7)), signup_closes=timestamp(NOW + dt.timedelta(days=28)),
        eligible_organization_ids=["ca-bay-area"], join_url="https://bay.example.org/communities/bay-ratios-plc")


def test_a_community_shared_names_no_facilitator_and_no_roster():
    source = open_community()
    text = text_of(builders.community(source, "", NOW))
    assert PERSON not in text
    assert "waitlisted" not in text and "team" not in text and "facilitator" not in text
    assert "position" not in text.lower()


def test_no_join_url_without_a_public_url_and_no_waiting_list_after_the_soft_deadline():
    shared = builders.community(open_community(), "", NOW + dt.timedelta(days=20))
    assert shared.join_url == ""
    assert not shared.waitlist_open


def test_a_full_community_has_no_seats_not_negative_ones():
    assert builders.community(open_community(confirmed_count=30), "", NOW).seats_available == 0


def test_only_open_communities_are_in_the_catalog_others_are_withdrawn():
    ctx = context()
    for status in (membership_pb2.COMMUNITY_STATUS_DRAFT, membership_pb2.COMMUNITY_STATUS_CLOSED,
                   membership_pb2.COMMUNITY_STATUS_COMPLETED, membership_pb2.COMMUNITY_STATUS_ACTIVE):
        change = changes.community(ctx, open_community(status=status), "bay-ratios-plc", NOW)
        assert change.content is None and change.key == "community:bay-ratios-plc"
    assert changes.community(ctx, None, "gone", NOW).content is None
    assert changes.community(ctx, open_community(), "bay-ratios-plc", NOW).content is not None


def test_an_organization_is_shared_without_its_history_of_moves():
    source = membership_pb2.Organization(
        id="eastbay-usd", name="East Bay Unified School District", kind=membership_pb2.ORGANIZATION_KIND_DISTRICT,
        parent_id="alameda-coe", ancestor_ids=["ca", "ca-bay-area", "alameda-coe"], code="01612340000000",
        time_zone="America/Los_Angeles", region_id="ca-bay-area", network_ids=["math-network"],
        parent_history=[membership_pb2.ParentChange(parent_id="old-coe", moved_by=PERSON)])
    shared = builders.organization(source)
    assert shared == share_pb2.SharedOrganization(id="eastbay-usd", name="East Bay Unified School District",
                                                  kind="district", parent_id="alameda-coe", code="01612340000000",
                                                  time_zone="America/Los_Angeles")
    assert PERSON not in text_of(shared)


def test_a_program_and_the_region_record():
    program = membership_pb2.Program(id="bay-area-math-cop", name="2026-27 Bay Area Math CoP",
                                     owner_organization_id="ca-bay-area", program_year="2026-27",
                                     description="The region's CoPs.",
                                     proposal_call=membership_pb2.ProposalCall(due_time=timestamp(NOW)))
    assert builders.program(program) == share_pb2.SharedProgram(
        id="bay-area-math-cop", name="2026-27 Bay Area Math CoP", owner_organization_id="ca-bay-area",
        program_year="2026-27", description="The region's CoPs.")
    organizations = [membership_pb2.Organization(id="ca", kind=membership_pb2.ORGANIZATION_KIND_STATE),
                     membership_pb2.Organization(id="ca-southern", kind=membership_pb2.ORGANIZATION_KIND_REGION),
                     membership_pb2.Organization(id="ca-bay-area", kind=membership_pb2.ORGANIZATION_KIND_REGION)]
    change = changes.region(context(public_url="https://bay.example.org", suppression_min_cell=12), organizations)
    assert (change.kind, change.key) == ("directory", "region")
    assert change.content == share_pb2.SharedRegion(region="bay", public_url="https://bay.example.org",
                                                    region_organization_ids=["ca-bay-area", "ca-southern"],
                                                    min_cell=12)


def test_cycle_counts_are_counts_of_cycles_per_organization_and_year():
    counts = cycles_pb2.CycleCounts(organization_id="eastbay-usd", program_year="2026-27", cycles=9, set_goals=1,
                                    plan=2, act=1, assess=1, reflect=0, closed=3, abandoned=1, goals_met=2,
                                    goals_not_met=1, communities=4)
    shared = builders.cycle_counts("eastbay-usd", membership_pb2.ORGANIZATION_KIND_DISTRICT, counts, "2026-27")
    assert shared == share_pb2.SharedCycleCounts(organization_id="eastbay-usd", level="district",
                                                 program_year="2026-27", cycles_open=5, cycles_closed=3,
                                                 cycles_abandoned=1, communities_with_cycles=4, goals_met=2,
                                                 goals_not_met=1)


def test_no_cycle_counts_below_district_level():
    school = membership_pb2.Organization(id="lakeview-ms", kind=membership_pb2.ORGANIZATION_KIND_SCHOOL)
    assert changes.cycles(sources=None, organization=school, years=["2026-27"]) == []


def aggregates(**overrides) -> measures_pb2.AggregatesPublished:
    message = measures_pb2.AggregatesPublished(
        schema_version=1, region="bay", organization_id="eastbay-usd", level="district", test="caaspp-math",
        school_year="2025-26", window="spring", version=3, min_cell=11, cut_scores_version="2024",
        publish_time=timestamp(NOW),
        cells=[measures_pb2.PublishedAggregateCell(
                   student_group="all", grade="6",
                   figures=measures_pb2.MeasureFigures(students_tested=90, mean_scale_score=2501.5,
                                                       percent_met_or_exceeded=measures_pb2.PercentFigure(
                                                           value=41.1, text="41.1"))),
               measures_pb2.PublishedAggregateCell(student_group="foster_youth", grade="6", withheld=True)])
    for name, value in overrides.items():
        setattr(message, name, value)
    return message


def test_measures_are_shared_as_published_under_their_key_with_the_records_own_version():
    change = changes.measures(context(), aggregates())
    assert (change.kind, change.key, change.source_version) == ("measures", "eastbay-usd|caaspp-math|2025-26|spring", 3)
    expected = aggregates()
    expected.ClearField("version")
    expected.ClearField("publish_time")
    assert change.content == expected


def test_participation_is_shared_as_published():
    message = participation_pb2.ParticipationPublished(
        schema_version=1, region="bay", organization_id="alameda-coe", level="county_office", program_year="2026-27",
        version=2, min_cell=11,
        figures=participation_pb2.ParticipationFigures(scope_id="alameda-coe", level="county_office",
                                                       program_year="2026-27", teachers_reached=40,
                                                       schools_reached=6, learning_hours=310.5),
        children=[participation_pb2.ParticipationFigures(scope_id="eastbay-usd", level="district",
                                                         program_year="2026-27", withheld=True)])
    change = changes.participation(context(), message)
    assert (change.kind, change.key) == ("participation", "alameda-coe|2026-27")
    assert change.content.figures.teachers_reached == 40 and change.content.children[0].withheld
    assert change.content.version == 0


def test_a_record_holds_its_content_in_the_kinds_field_and_a_withdrawn_one_none():
    content = builders.program(membership_pb2.Program(id="p", name="P"))
    record = records.shared_record("bay", "catalog", "program:p", 2, NOW, content)
    assert record.WhichOneof("content") == "program" and record.version == 2 and record.region == "bay"
    withdrawn = records.shared_record("bay", "catalog", "program:p", 3, NOW, None)
    assert withdrawn.withdrawn and withdrawn.WhichOneof("content") is None
    assert share_subject("bay", "catalog") == "copnet-share.bay.catalog"


def test_a_content_is_never_shared_as_another_kind():
    content = builders.program(membership_pb2.Program(id="p"))
    try:
        records.shared_record("bay", "directory", "program:p", 1, NOW, content)
    except ValueError as error:
        assert "catalog" in str(error)
    else:
        raise AssertionError("a program was shared as directory")


def test_fields_a_newer_producer_adds_to_an_event_never_reach_the_record():
    """reflection's event as it arrives (JSON), with fields a newer producer might add."""
    from copnet.kernel.events import CloudEvent

    data = json_format.MessageToDict(aggregates(), preserving_proto_field_name=True)
    data["teacher_email"] = EMAIL
    data["cells"][0]["student_ids"] = ["SYN000000000001"]
    event = CloudEvent(type="copnet.reflection.aggregates.published", source="copnet/bay/reflection",
                       subject="eastbay-usd", data=data)
    change = changes.measures(context(), event.payload(measures_pb2.AggregatesPublished))
    record = records.shared_record("bay", "measures", change.key, 1, NOW, change.content)
    text = text_of(record)
    assert EMAIL not in text and "SYN000000000001" not in text
