"""Teacher efficacy surveys on a real stack: the built-in scale given to the demo program's
participants before the year, answered anonymously once each, reported with every figure under
the threshold withheld, and no read (REST, gRPC, event, the stored documents) ever putting a
person next to answers."""

from __future__ import annotations

import datetime as dt
import json
import statistics

import pymongo
import pytest
from typer.testing import CliRunner

from copnet import seed
from copnet.api_client import ApiClient, ApiError
from copnet.cli.root import app as cli
from copnet.reflection.surveys.mtebi import MTEBI, MTOE, PMTE

from tests.integration.jetstream_events import published
from tests.support.stack import own_demo_stack

pytestmark = pytest.mark.integration

PROGRAM, RATIOS, TEAMS = seed.DEMO_PROGRAM.id, "bay-ratios-plc", "eastbay-elementary-math-teams"
# The demo's participants (two in the PLC, a school team of three) and ten more PLC teachers.
EXTRA = tuple(f"survey-teacher-{n:02d}" for n in range(10))
RATIOS_PEOPLE = ("daniel-kim", "sofia-garcia", *EXTRA)
TEAM_PEOPLE = ("maria-lopez", "james-carter", "aisha-johnson")
SCHOOL_OF = {**{p: "lakeview-ms" for p in RATIOS_PEOPLE}, **{p: "bayside-es" for p in TEAM_PEOPLE}}
OUTSIDER = "priya-patel"  # in the demo network, in no community of the program


def answers_of(index: int) -> list[int]:
    return [1 + (index * 3 + item) % 5 for item in range(len(MTEBI.items))]


def rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with own_demo_stack(tmp_path_factory.mktemp("surveys")) as running:
        admin = ApiClient(running.gateway_url, running.token("platform_admin", person=seed.SEED_PERSON_ID))
        for person in EXTRA:
            admin.post("/people", {"id": person, "name": f"Survey Teacher {person[-2:]}",
                                   "email": f"{person}@lakeview.example.org",
                                   "affiliations": [{"organization_id": "lakeview-ms", "position": "teacher"}]})
            admin.post(f"/communities/{RATIOS}/registrations", {"person_id": person})
        yield running


def as_person(stack, person: str) -> ApiClient:
    return ApiClient(stack.gateway_url, stack.token("member", SCHOOL_OF.get(person, "orchard-hs"), person=person))


def refusal(call) -> tuple[int, str | None, list]:
    with pytest.raises(ApiError) as refused:
        call()
    return refused.value.status, refused.value.problem.get("reason"), refused.value.problem.get("errors") or []


def test_a_pre_survey_is_answered_anonymously_and_reported_suppressed(stack):
    lead = ApiClient(stack.gateway_url, stack.token("regional_lead", "ca-bay-area", person="elena-torres"))
    now = dt.datetime.now(dt.UTC)
    body = {"id": "bay-pre", "phase": "pre", "instrument_id": MTEBI.id, "opens_at": rfc3339(now - dt.timedelta(hours=1)),
            "closes_at": rfc3339(now - dt.timedelta(hours=2))}
    status, reason, errors = refusal(lambda: lead.post(f"/programs/{PROGRAM}/survey-administrations", body))
    assert (status, reason, errors[0]["field"]) == (422, "CLOSE_BEFORE_OPEN", "closes_at")
    body["closes_at"] = rfc3339(now + dt.timedelta(days=1))
    member = as_person(stack, "daniel-kim")
    assert refusal(lambda: member.post(f"/programs/{PROGRAM}/survey-administrations", body))[0] == 403
    made = lead.post(f"/programs/{PROGRAM}/survey-administrations", body)
    assert (made["phase"], made["instrument_version"], made["owner_organization_id"]) == ("pre", 1, "ca-bay-area")
    assert lead.get(f"/survey-instruments/{MTEBI.id}")["administered"] is True

    # Ten answers: under the threshold, the report shows nothing at all.
    given: dict[str, list[int]] = {}
    for index, person in enumerate(RATIOS_PEOPLE[:10]):
        given[person] = answers_of(index)
        counted = as_person(stack, person).post("/survey-administrations/bay-pre/responses",
                                                {"answers": given[person]})
        assert counted == {"administration_id": "bay-pre", "counted": True}
    small = lead.get("/survey-administrations/bay-pre/report")
    assert small["respondents"] is None and small["min_cell"] == 11
    assert all(s["mean"] is None for s in small["subscales"])
    assert all(i["mean"] is None and all(c["respondents"] is None for c in i["distribution"]) for i in small["items"])

    # Once each; only the program's participants; the answers are checked against the scale.
    status, reason, _ = refusal(lambda: as_person(stack, "daniel-kim").post(
        "/survey-administrations/bay-pre/responses", {"answers": answers_of(0)}))
    assert (status, reason) == (409, "ALREADY_RESPONDED")
    status, reason, _ = refusal(lambda: as_person(stack, OUTSIDER).post(
        "/survey-administrations/bay-pre/responses", {"answers": answers_of(0)}))
    assert (status, reason) == (403, "NOT_A_PARTICIPANT")
    status, reason, errors = refusal(lambda: as_person(stack, "aisha-johnson").post(
        "/survey-administrations/bay-pre/responses", {"answers": [6, *answers_of(0)[1:]]}))
    assert (status, reason, errors[0]["field"]) == (422, "ANSWER_OUT_OF_SCALE", "answers[0]")
    assert as_person(stack, "daniel-kim").get("/survey-administrations/bay-pre/status") == {
        "administration_id": "bay-pre", "responded": True, "may_respond": False}
    assert as_person(stack, OUTSIDER).get("/survey-administrations/bay-pre/status") == {
        "administration_id": "bay-pre", "responded": False, "may_respond": False}
    assert as_person(stack, "aisha-johnson").get("/survey-administrations/bay-pre/status")["may_respond"] is True

    for index, person in enumerate((*RATIOS_PEOPLE[10:], *TEAM_PEOPLE), start=10):
        given[person] = answers_of(index)
        as_person(stack, person).post("/survey-administrations/bay-pre/responses", {"answers": given[person]})

    # Fifteen: while the survey takes answers, only the count is shown (a mean read before and
    # after one more answer would tell it); once the lead closes it, no answer is taken and the
    # whole is shown, its means those of the answers.
    collecting = lead.get("/survey-administrations/bay-pre/report")
    assert collecting["collecting"] and collecting["respondents"] == 15
    assert all(s["mean"] is None for s in collecting["subscales"])
    assert refusal(lambda: member.post("/survey-administrations/bay-pre/close", {}))[0] == 403
    closed = lead.post("/survey-administrations/bay-pre/close", {})
    assert dt.datetime.fromisoformat(closed["closes_at"]) < dt.datetime.fromisoformat(made["closes_at"])
    assert refusal(lambda: lead.post("/survey-administrations/bay-pre/close", {}))[1] == "SURVEY_CLOSED"
    status, reason, _ = refusal(lambda: as_person(stack, OUTSIDER).post(
        "/survey-administrations/bay-pre/responses", {"answers": answers_of(0)}))
    assert (status, reason) == (409, "SURVEY_CLOSED")
    full = lead.get("/survey-administrations/bay-pre/report")
    assert full["respondents"] == 15 and not full["collecting"]
    for code in (PMTE, MTOE):
        scores = [MTEBI.subscale_scores(answers)[code] for answers in given.values()]
        shown = next(s for s in full["subscales"] if s["subscale"] == code)
        assert shown["mean"] == pytest.approx(statistics.mean(scores))
        assert shown["standard_deviation"] == pytest.approx(statistics.stdev(scores))
    q3 = next(i for i in full["items"] if i["item_id"] == "q3")  # reverse-scored
    assert q3["reverse_scored"] and q3["mean"] == pytest.approx(statistics.mean(6 - a[2] for a in given.values()))
    # 15 answers over five points: no point holds 11, so every count is withheld.
    assert all(c["respondents"] is None for i in full["items"] for c in i["distribution"])
    # By community: the team's three are withheld, and the PLC's twelve with them (the whole would
    # give the three away); a county admin reads only the county's row, never the whole.
    by_community = {g["group_id"]: g for g in lead.get("/survey-administrations/bay-pre/report",
                                                       breakdown="community")["groups"]}
    assert by_community[TEAMS]["respondents"] is None and by_community[RATIOS]["respondents"] is None
    assert all(s["mean"] is None for g in by_community.values() for s in g["subscales"])
    county = ApiClient(stack.gateway_url, stack.token("county_admin", "alameda-coe", person="elena-torres"))
    restricted = county.get("/survey-administrations/bay-pre/report")
    assert restricted["restricted"] and restricted["respondents"] is None
    assert [(g["group_id"], g["respondents"]) for g in restricted["groups"]] == [("alameda-coe", 15)]
    assert refusal(lambda: member.get("/survey-administrations/bay-pre/report"))[0] == 403
    elsewhere = ApiClient(stack.gateway_url, stack.token("county_admin", "san-diego-coe", person="x-county"))
    assert refusal(lambda: elsewhere.get("/survey-administrations/bay-pre/report"))[0] == 403

    # The post survey must use the pre's version; with no post answers yet, no change is shown.
    lead.post(f"/programs/{PROGRAM}/survey-administrations", {**body, "id": "bay-post", "phase": "post"})
    comparison = lead.get(f"/programs/{PROGRAM}/survey-comparison")
    assert (comparison["pre_respondents"], comparison["post_respondents"]) == (15, 0)
    assert (comparison["pre_collecting"], comparison["post_collecting"]) == (False, True)
    assert all(c["difference"] is None for c in (*comparison["subscales"], *comparison["items"]))

    # The CLI prints the same report.
    out = CliRunner().invoke(cli, ["surveys", "report", "bay-pre", "--json", "--gateway", stack.gateway_url,
                                   "--token", stack.token("regional_lead", "ca-bay-area", person="elena-torres")])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["respondents"] == 15
    lead_cli = ["--gateway", stack.gateway_url, "--token", stack.token("regional_lead", "ca-bay-area",
                                                                     person="elena-torres")]
    for command, expected in ((["report", "bay-pre", "--by", "community"], f"{RATIOS}"),
                              (["compare", PROGRAM], "15 respondents pre, 0 post"),
                              (["instruments"], MTEBI.id), (["instruments", MTEBI.id], "q21")):
        out = CliRunner().invoke(cli, ["surveys", *command, *lead_cli], terminal_width=200)
        assert out.exit_code == 0 and expected in out.output, (command, out.output)

    # No read puts a person next to answers: not a report, list, status, event or stored response.
    reads = [full, small, restricted, comparison, lead.get(f"/programs/{PROGRAM}/survey-administrations"),
             lead.get("/survey-administrations/bay-pre/report", breakdown="county"),
             lead.get("/survey-administrations/bay-pre/report", breakdown="region"),
             *(e.data for e in published(stack, "reflection.survey.>"))]
    text = json.dumps(reads)
    assert [person for person in given if person in text] == []
    events = published(stack, "reflection.survey.response_counted")
    assert len(events) == 15
    assert [e.data.get("respondents_withheld", False) for e in events][:10] == [True] * 10
    database = pymongo.MongoClient(stack.mongodb_uri)[stack.settings.database_name("reflection")]
    stored = list(database["survey_responses"].find({"administration_id": "bay-pre"}))
    assert len(stored) == 15 and all(set(doc) == {"_id", "administration_id", "community_id", "day", "answers"}
                                     for doc in stored)
    ledger = list(database["survey_respondents"].find({"administration_id": "bay-pre"}))
    assert sorted(doc["person_id"] for doc in ledger) == sorted(given)
    assert all(set(doc) == {"_id", "administration_id", "person_id"} for doc in ledger)
