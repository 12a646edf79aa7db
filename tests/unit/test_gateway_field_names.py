"""A service's field error is named after what the caller sent, not the proto request field."""

from __future__ import annotations

from copnet.gateway.convert.common import json_field
from copnet.kernel.clients import request_field_names


def test_an_aip_133_id_is_named_id_when_the_body_sent_id():
    assert json_field("person_id", {"id", "name"}) == "id"
    assert json_field("organization_id", set()) == "id"


def test_a_field_the_caller_sent_under_its_own_name_keeps_it():
    assert json_field("person_id", {"person_id", "acknowledge_commitment"}) == "person_id"
    assert json_field("program_id", {"name", "program_id"}) == "program_id"


def test_nested_and_indexed_fields_are_matched_by_their_top_level_name():
    assert json_field("affiliations[0].organization_id", {"affiliations"}) == "affiliations[0].organization_id"
    assert json_field("signup_window.open_time", set()) == "signup_window.opens_at"
    assert json_field("signup_window.close_time", {"signup_window", "name"}) == "signup_window.closes_at"
    assert json_field("new_parent_id", {"parent_id"}) == "parent_id"


def test_another_resources_id_keeps_its_name_when_the_request_has_an_id_of_its_own():
    # A session PATCH that sets audience `team` without a team: UpdateSessionRequest has `id` (the
    # session's) and `team_id` (a team's), so the error is about `team_id`, not the session's id.
    update_session = request_field_names("scheduling", "UpdateSession")
    assert {"id", "team_id"} <= update_session
    assert json_field("team_id", {"audience"}, update_session) == "team_id"
    # A team's create has no `id` field: its AIP-133 `team_id` is the body's `id`.
    assert json_field("team_id", {"id", "name"}, request_field_names("membership", "CreateTeam")) == "id"


def test_an_unknown_method_has_no_fields():
    assert request_field_names("scheduling", "NoSuchMethod") == frozenset()
    assert request_field_names("no-such-service", "Get") == frozenset()
