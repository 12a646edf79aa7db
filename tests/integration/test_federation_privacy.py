"""Nothing personal or secret crosses the link to the statewide hub: every byte that crossed during
a full demo run is inspected.

A hub and one region ("north"). Before the region links, a subscriber to every subject of the
hub's account starts capturing; the region then loads the whole demo network (its synthetic
assessment files imported, so reflection publishes suppressed measures and participation) with
plugin secrets configured first and a person created and changed. Once the hub holds everything
the region shared, the captured messages (payloads and headers) and every message every stream
of the hub keeps (the statewide stream above all) are read, and none may carry:

- a person's name, e-mail address (any address) or id (the demo's people, the seed's, the one made
  here), which is also what a roster would be made of;
- a student: a synthetic student id (SYN and 12 digits), a pseudonym the region's store keeps, or,
  in a shared record or its headers, any other run of 16+ hex digits that is not a known
  non-personal id (an id of the region's organizations, communities or programs; the event id;
  the trace context). NATS's own control traffic (JetStream API calls, flow control) carries ids
  nats-server makes up, so there only the exact pseudonyms and student ids are looked for;
- a plugin secret configured in the region;
- a figure below the suppression threshold (a count of students or teachers from 1 to min_cell - 1
  shown rather than withheld);
- anything on the region's own subjects (copnet.<region>.*, copnet-dlq.<region>.*).
Every shared record must also parse as a SharedRecord with no field it does not define.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from google.protobuf import json_format

from copnet import seed
from copnet.api_client import ApiClient
from copnet.kernel.federation import SHARE_EVENT_TYPE, kind_of_subject
from copnet.share.v1 import share_pb2
from tests.integration.jetstream_events import StoredMessage, every_stored_message
from tests.support.federation import (CapturedMessage, Federation, FederatedStack, HubCapture, every_hub_document,
                                      missing_at_hub, running_federation, shared_versions, wait_until)

pytestmark = pytest.mark.integration

REGION = "north"
DEMO_REGION_ORGANIZATION = "ca-bay-area"
NEW_PERSON = ("federation-privacy-person", "Fedra Privet", "fedra.privet@lakeview.example.org",
              "fedra.privet@eastbay.example.org")
EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
SYNTHETIC_STUDENT_ID = re.compile(r"SYN[0-9]{12}")
HEX_WORD = re.compile(r"[0-9a-fA-F]{16,}")
EVENT_ID = re.compile(r"[0-9a-f]{32}")
TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")
# Headers whose hex is an id of the message itself, and the form it must have.
HEX_HEADERS = {"ce-id": EVENT_ID, "Nats-Msg-Id": EVENT_ID, "traceparent": TRACEPARENT}
SHARED_KINDS_EXPECTED = {"measures", "participation", "catalog", "directory"}
CATCH_UP_SECONDS = 120


@dataclass(frozen=True)
class Crossed:
    """Everything the hub saw, and what the region holds that must not have crossed."""

    captured: list[CapturedMessage]
    stored: list[StoredMessage]
    secret_values: dict[str, str]
    pseudonyms: set[str]
    known_ids: set[str]
    min_cell: int
    # collection -> each document of the hub's statewide database, as JSON.
    hub_documents: dict[str, list[str]]


@pytest.fixture(scope="module")
def crossed(tmp_path_factory) -> Crossed:
    captures: list[HubCapture] = []
    with running_federation(tmp_path_factory.mktemp("federation-privacy"), (REGION,),
                            before_regions=lambda federation: captures.append(HubCapture(federation.hub).start())
                            ) as federation:
        region = federation.regions[REGION]
        try:
            secret_values = run_the_demo(region)
            wait_until(lambda: hub_has_everything(federation), CATCH_UP_SECONDS, "everything the region shared at the hub")
        finally:
            captured = captures[0].stop()
        documents = {name: [json.dumps(doc, default=str) for doc in docs]
                     for name, docs in every_hub_document(federation.hub).items()}
        return Crossed(captured, every_stored_message(federation.hub), secret_values, kept_pseudonyms(region),
                       known_ids(region), region.settings.suppression_min_cell, documents)


def run_the_demo(region: FederatedStack) -> dict[str, str]:
    """The demo network, plugin secrets configured as soon as its organizations exist, a person
    created and changed; the secret values."""
    token = region.token("platform_admin", person=seed.SEED_PERSON_ID)
    items = seed.demo_items()
    first = [*seed.DEMO_ORGANIZATIONS, *seed.DEMO_PEOPLE, *seed.DEMO_GRANTS]
    seed.load(region.gateway_url, token, first)
    values = {"webhook url": f"http://127.0.0.1:9/hooks/{secrets.token_hex(12)}",
              "webhook signing_secret": f"whsec-{secrets.token_hex(16)}",
              "smtp password": f"smtp-{secrets.token_hex(16)}"}
    lead = ApiClient(region.gateway_url, region.token("regional_lead", DEMO_REGION_ORGANIZATION, person="elena-torres"))
    lead.put(f"/regions/{DEMO_REGION_ORGANIZATION}/plugins/webhook-notify", {"enabled": True, "settings": {
        "url": values["webhook url"], "signing_secret": values["webhook signing_secret"]}})
    lead.put(f"/regions/{DEMO_REGION_ORGANIZATION}/plugins/email-notify", {"enabled": True, "settings": {
        "host": "127.0.0.1", "port": 587, "security": "starttls", "username": "bay-area-reminders",
        "password": values["smtp password"], "from_address": "reminders@bay-area.example.org",
        "reply_to": "help@bay-area.example.org"}})
    seed.load(region.gateway_url, token, [item for item in items if item not in first])
    person, name, email, new_email = NEW_PERSON
    county = ApiClient(region.gateway_url, region.token("county_admin", "alameda-coe", person="privacy-admin"))
    county.post("/people", {"id": person, "name": name, "email": email,
                            "affiliations": [{"organization_id": "lakeview-ms", "position": "teacher"}]})
    county.patch(f"/people/{person}", {"email": new_email})
    county.post("/communities/bay-ratios-plc/registrations", {"person_id": person, "acknowledge_commitment": False})
    return values


def hub_has_everything(federation: Federation) -> bool:
    """Every kind the demo shares is in the region's share stream, the region has nothing left to
    send, and the hub applied every version the share stream holds."""
    region = federation.regions[REGION]
    kinds = {kind for kind, _ in shared_versions(region)}
    status = region.share(region.token("platform_admin")).GetShareStatus(share_pb2.GetShareStatusRequest())
    return SHARED_KINDS_EXPECTED <= kinds and not status.pending and not missing_at_hub(federation, REGION)


def kept_pseudonyms(region: FederatedStack) -> set[str]:
    store = Path(region.settings.reflection_store_dir or region.settings.data_dir / "reflection").resolve()
    columns = [pq.read_table(path, columns=["pseudonym"]).column("pseudonym") for path in store.glob("*/students.parquet")]
    return {value for column in columns for value in column.to_pylist()}


def known_ids(region: FederatedStack) -> set[str]:
    """Ids of what the region may share about: its organizations, communities and programs."""
    api = ApiClient(region.gateway_url, region.token("platform_admin", person=seed.SEED_PERSON_ID))
    return ({org["id"] for org in api.pages("/orgs")} | {c["id"] for c in api.pages("/communities")}
            | {p["id"] for p in api.pages("/programs")})


# -- what is looked for ----------------------------------------------------------------------------
def texts_of(headers: dict[str, str], data: bytes) -> list[str]:
    return [data.decode("utf-8", "replace"), *(f"{name}: {value}" for name, value in headers.items())]


def people_named(texts: Iterable[str]) -> set[str]:
    people = [*((p.id, p.name, p.email) for p in seed.DEMO_PEOPLE), (seed.SEED_PERSON_ID, "", ""), NEW_PERSON[:3]]
    found = set()
    for text in texts:
        lowered = text.lower()
        found |= set(EMAIL.findall(text))
        for person_id, name, *_ in people:
            if re.search(rf"(?<![\w-]){re.escape(person_id)}(?![\w-])", text):
                found.add(f"person id {person_id}")
            if name and name.lower() in lowered:
                found.add(f"name {name}")
    return found


def students_named(texts: Iterable[str], pseudonyms: set[str]) -> set[str]:
    found = set()
    for text in texts:
        found |= {f"student id {match}" for match in SYNTHETIC_STUDENT_ID.findall(text)}
        found |= {f"pseudonym {match[:8]}..." for match in HEX_WORD.findall(text) if match.lower() in pseudonyms}
    return found


def strings_of(value, path: str = "") -> Iterable[tuple[str, str]]:
    """(field path, string) of every string in a record's JSON."""
    if isinstance(value, dict):
        for name, item in value.items():
            yield from strings_of(item, f"{path}.{name}" if path else name)
    elif isinstance(value, list):
        for item in value:
            yield from strings_of(item, path)
    elif isinstance(value, str):
        yield path, value


def unexplained_hex(headers: dict[str, str], data: bytes, known: set[str]) -> set[str]:
    """Runs of 16+ hex digits in a shared record or its headers that are no known non-personal id."""
    found = set()
    for name, value in headers.items():
        for match in HEX_WORD.findall(value):
            form = HEX_HEADERS.get(name)
            if form is None or not form.fullmatch(value):
                found.add(f"header {name}: {match}")
    for path, value in strings_of(json_format.MessageToDict(parse_strictly(data), preserving_proto_field_name=True)):
        for match in HEX_WORD.findall(value):
            if not (path.rsplit(".", 1)[-1].endswith(("id", "ids", "key")) and (value in known or match in known)):
                found.add(f"{path}: {match}")
    return found


def parse_strictly(data: bytes) -> share_pb2.SharedRecord:
    """The record; any field SharedRecord does not define fails the parse."""
    return json_format.Parse(data, share_pb2.SharedRecord(), ignore_unknown_fields=False)


def small_figures(record: share_pb2.SharedRecord, min_cell: int) -> list[str]:
    """Counts of 1..min_cell-1 students or teachers shown rather than withheld, and figures a
    withheld cell still carries."""
    found = []
    if record.HasField("measures"):
        for cell in record.measures.cells:
            where = f"{record.key} {cell.student_group} grade {cell.grade}"
            if cell.withheld and cell.HasField("figures"):
                found.append(f"{where}: withheld, with figures")
            elif not cell.withheld and 0 < cell.figures.students_tested < min_cell:
                found.append(f"{where}: {cell.figures.students_tested} students")
    if record.HasField("participation"):
        for figures in [record.participation.figures, *record.participation.children]:
            where = f"{record.key} {figures.scope_id}"
            if figures.withheld and figures.HasField("teachers_reached"):
                found.append(f"{where}: withheld, with a teacher count")
            elif not figures.withheld and 0 < figures.teachers_reached < min_cell:
                found.append(f"{where}: {figures.teachers_reached} teachers")
    return found


def is_shared_record(subject: str, headers: dict[str, str]) -> bool:
    """A message of a share subject: a record as it crosses (a source's delivery keeps the record's
    subject, its reply `$JS.ACK.copnet-share-<region>...`), as the hub's ingest reads it, or as
    the statewide stream keeps it; not the source's heartbeats and flow control, which come on
    the delivery subject with a status header and no body."""
    return kind_of_subject(subject) is not None and "Status" not in headers


def messages_seen(crossed: Crossed) -> list[tuple[str, str, dict[str, str], bytes]]:
    """(where, subject, headers, data) of every message captured at the hub and every one its streams keep."""
    return ([(f"captured #{n}", m.subject, m.headers, m.data) for n, m in enumerate(crossed.captured)]
            + [(f"{m.stream} #{m.sequence}", m.subject, m.headers, m.data) for m in crossed.stored])


def report(found: list[str], total: int) -> str:
    return f"{len(found)} of {total} messages at the hub carry what must not cross:\n" + "\n".join(found[:50])


# -- the tests -------------------------------------------------------------------------------------
def test_the_capture_saw_every_kind_of_record_cross(crossed):
    """The other tests read what the capture saw: it saw the demo's records of every kind cross
    (and the statewide stream kept them), or they would pass on nothing."""
    kinds_captured = {kind_of_subject(m.subject)[1] for m in crossed.captured if is_shared_record(m.subject, m.headers)}
    kinds_stored = {kind_of_subject(m.subject)[1] for m in crossed.stored if kind_of_subject(m.subject)}
    assert SHARED_KINDS_EXPECTED <= kinds_captured
    assert SHARED_KINDS_EXPECTED <= kinds_stored
    assert all(m.headers.get("ce-type") == SHARE_EVENT_TYPE for m in crossed.stored if kind_of_subject(m.subject))
    assert len(crossed.pseudonyms) > 1000, "the demo's assessment data was not imported"


def test_nothing_of_the_regions_own_subjects_reached_the_hub(crossed):
    own = (f"copnet.{REGION}.", f"copnet-dlq.{REGION}.")
    found = [f"{where} {subject}" for where, subject, headers, _ in messages_seen(crossed)
             if subject.startswith(own) or any(value.startswith(own) for value in headers.values())]
    assert found == [], report(found, len(messages_seen(crossed)))
    streams = {m.stream for m in crossed.stored}
    assert not {stream for stream in streams if REGION in stream and "share" not in stream}, streams


def test_no_person_is_named_and_no_secret_crosses(crossed):
    found = []
    for where, subject, headers, data in messages_seen(crossed):
        texts = texts_of(headers, data)
        exposed = people_named(texts)
        exposed |= {f"the {name}" for name, value in crossed.secret_values.items() if any(value in t for t in texts)}
        if exposed:
            found.append(f"{where} {subject}: {', '.join(sorted(exposed))}")
    assert found == [], report(found, len(messages_seen(crossed)))


def test_no_student_is_named(crossed):
    found = []
    for where, subject, headers, data in messages_seen(crossed):
        named = students_named(texts_of(headers, data), crossed.pseudonyms)
        if is_shared_record(subject, headers):
            named |= unexplained_hex(headers, data, crossed.known_ids)
        if named:
            found.append(f"{where} {subject}: {', '.join(sorted(named))}")
    assert found == [], report(found, len(messages_seen(crossed)))


def test_every_shared_record_is_a_shared_record_and_no_figure_is_below_the_threshold(crossed):
    found, records = [], 0
    for where, subject, headers, data in messages_seen(crossed):
        if not is_shared_record(subject, headers):
            continue
        try:
            record = parse_strictly(data)
        except json_format.ParseError as error:
            found.append(f"{where} {subject}: not a SharedRecord ({error})")
            continue
        records += 1
        if record.region != REGION or kind_of_subject(subject) != (REGION, record.kind):
            found.append(f"{where} {subject}: record of {record.region}/{record.kind}")
        for content in ("measures", "participation"):
            if record.HasField(content) and getattr(record, content).min_cell < crossed.min_cell:
                found.append(f"{where} {record.key}: suppressed with min_cell {getattr(record, content).min_cell}")
        found += [f"{where} {problem}" for problem in small_figures(record, crossed.min_cell)]
    assert found == [], report(found, records)
    assert records > 0
    # The threshold check had figures to look at, shown and withheld.
    cells = [cell for _, subject, headers, data in messages_seen(crossed) if is_shared_record(subject, headers)
             for cell in parse_strictly(data).measures.cells]
    assert any(not cell.withheld for cell in cells) and any(cell.withheld for cell in cells)


def test_the_hub_stores_no_person_student_or_secret(crossed):
    """What the hub's statewide service keeps (state, history, refusals, the views' read models),
    document by document as stored."""
    assert crossed.hub_documents.get("shared_history"), "the hub stored nothing to look at"
    found = []
    for collection, documents in crossed.hub_documents.items():
        for n, document in enumerate(documents):
            exposed = people_named([document]) | students_named([document], crossed.pseudonyms)
            exposed |= {f"the {name}" for name, value in crossed.secret_values.items() if value in document}
            if exposed:
                found.append(f"{collection} #{n}: {', '.join(sorted(exposed))}")
    assert found == [], "\n".join(found[:50])
