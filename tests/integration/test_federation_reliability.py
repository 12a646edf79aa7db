"""Reliability of the link between a region and the statewide hub, with real processes.

One hub and one region ("north", the demo network's organizations, people and communities) for
the module. The region reaches the hub's leaf-node port through a proxy this test controls, so the
link can go down while both sides run; the hub can also be stopped outright.

- The link goes down while the region keeps changing what it shares (communities renamed and
  created, people signed up): the share records pile up in the region's share stream, none reaches
  the hub; once the link is back every record arrives, each version exactly once and in order, and
  the hub's figures are the region's latest.
- The hub goes down (its nats-server and statewide service stopped): the region works fully (sign
  ups, community creation, an assessment import, each with its events flowing locally), and the hub
  restarted while the link is still down loses nothing either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from copnet import seed
from copnet.api_client import ApiClient
from copnet.share.v1 import share_pb2
from copnet.statewide.v1 import ingest_pb2
from google.protobuf import json_format

from tests.integration.jetstream_events import published
from tests.support.federation import (Federation, FederatedStack, hub_documents, hub_history, missing_at_hub,
                                      running_federation, share_stream_records, shared_versions, wait_until)

pytestmark = pytest.mark.integration

REGION = "north"
# The demo network without its sessions, plugins and assessment data: enough to share a catalog,
# a directory and participation, loaded in seconds.
BASE_ITEMS = [*seed.DEMO_ORGANIZATIONS, *seed.DEMO_PEOPLE, *seed.DEMO_GRANTS, seed.DEMO_PROGRAM,
              *seed.DEMO_COMMUNITIES, *(seed.Opening(c.id) for c in seed.DEMO_PROGRAM_COMMUNITIES),
              *seed.DEMO_REGISTRATIONS]
# Open for sign-up: in the public catalog (a draft is not).
RENAMED = [c.id for c in seed.DEMO_PROGRAM_COMMUNITIES]
RENAMES_PER_OUTAGE = 3
# The hub's stream sources the region's share stream with an ephemeral consumer the hub asks the
# region for; after the hub restarts, JetStream waits up to 30 s for the answer to a request sent
# before the link was back, then retries after 10 s more (nats-server's source back-off).
HUB_RESTART_CATCH_UP_SECONDS = 120
CATCH_UP_SECONDS = 60


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    with running_federation(tmp_path_factory.mktemp("federation-reliability"), (REGION,)) as running:
        region = running.regions[REGION]
        seed.load(region.gateway_url, admin_token(region), BASE_ITEMS)
        # Everything the base shares is at the hub before any test breaks anything.
        wait_until(lambda: not missing_at_hub(running, REGION) and catalog_names_at_hub(running, RENAMED),
                   CATCH_UP_SECONDS, "the region's first records at the hub")
        yield running


def admin_token(stack: FederatedStack) -> str:
    return stack.token("platform_admin", person=seed.SEED_PERSON_ID)


def admin(stack: FederatedStack) -> ApiClient:
    return ApiClient(stack.gateway_url, admin_token(stack))


# -- what the region shared and what the hub applied ------------------------------------------------
def catalog_names_at_hub(federation: Federation, community_ids: list[str]) -> dict[str, str]:
    """community id -> its name in the hub's latest catalog record (those the hub has)."""
    names = {}
    for doc in hub_documents(federation.hub, "shared_state", {"region": REGION, "kind": "catalog"}):
        record = json_format.ParseDict(doc["record"], share_pb2.SharedRecord())
        if record.WhichOneof("content") == "community" and record.community.id in community_ids:
            names[record.community.id] = record.community.name
    return names


def catalog_names_shared(federation: Federation, community_ids: list[str]) -> dict[str, str]:
    """community id -> its name in the newest catalog record of the region's share stream."""
    newest: dict[str, tuple[int, str]] = {}
    for record in share_stream_records(federation.regions[REGION]):
        if (record.WhichOneof("content") == "community" and record.community.id in community_ids
                and record.version > newest.get(record.community.id, (0, ""))[0]):
            newest[record.community.id] = (record.version, record.community.name)
    return {community: name for community, (_, name) in newest.items()}


def current_names(federation: Federation, community_ids: list[str]) -> dict[str, str]:
    api = admin(federation.regions[REGION])
    return {community: api.get(f"/communities/{community}")["name"] for community in community_ids}


def wait_for_the_hub_to_catch_up(federation: Federation, community_ids: list[str], timeout: float) -> None:
    """Until the hub holds every version the region shared, the newest naming each community as
    the region does now (so the share service had sent them all)."""
    expected = current_names(federation, community_ids)
    wait_until(lambda: catalog_names_at_hub(federation, community_ids) == expected
               and not missing_at_hub(federation, REGION), timeout, "the hub catching up with the region")


def assert_every_version_applied_once_in_order(federation: Federation, region: str) -> int:
    """The hub applied exactly the versions the region shared: 1..n for each key, each once, in
    version order (stream order and time), its latest record the region's latest. The count."""
    shared, history = shared_versions(federation.regions[region]), hub_history(federation.hub, region)
    assert set(history) == set(shared), "the hub holds other keys than the region shared"
    problems = []
    for entity, docs in history.items():
        versions = [doc["version"] for doc in docs]
        if versions != list(range(1, len(versions) + 1)) or set(versions) != set(shared[entity]):
            problems.append(f"{entity}: applied versions {versions}, shared {sorted(shared[entity])}")
            continue
        sequences = [doc["stream_sequence"] for doc in docs]
        times = [doc["applied_at"] for doc in docs]
        if sequences != sorted(set(sequences)) or times != sorted(times):
            problems.append(f"{entity}: applied out of version order (stream sequences {sequences})")
    assert problems == [], "\n".join(problems)
    states = {(doc["kind"], doc["key"]): doc for doc in hub_documents(federation.hub, "shared_state",
                                                                       {"region": region})}
    assert set(states) == set(shared)
    for entity, doc in states.items():
        latest = max(shared[entity])
        assert doc["version"] == latest, entity
        assert json_format.ParseDict(doc["record"], share_pb2.SharedRecord()) == shared[entity][latest], entity
    applied = sum(len(docs) for docs in history.values())
    regions = federation.hub.statewide(admin_token(federation.hub)).ListRegions(ingest_pb2.ListRegionsRequest())
    # Counted as applied: each version once (a redelivery applied again would count twice).
    assert {link.region: link.records_applied for link in regions.regions}.get(region) == applied
    return applied


# -- the region's work ------------------------------------------------------------------------------
def rename(federation: Federation, community_ids: list[str], label: str) -> None:
    api = admin(federation.regions[REGION])
    for community in community_ids:
        api.patch(f"/communities/{community}", {"name": f"{community} ({label})"})


def new_community(federation: Federation, community_id: str) -> None:
    """A program community opened for sign-up, and a teacher signed up (seats change: a new version)."""
    community = seed.Community(community_id, f"Outage PLC {community_id}", "plc", "eastbay-usd",
                               "Created while the hub could not be reached.", program_id=seed.DEMO_PROGRAM.id,
                               grade_bands=("6-8",), capacity=20, signup_window=seed.OPEN_NOW,
                               eligible_positions=("teacher", "specialist"))
    seed.load(federation.regions[REGION].gateway_url, admin_token(federation.regions[REGION]),
              [community, seed.Opening(community_id), seed.Signup(community_id, "daniel-kim")])


def one_assessment_file(now: dt.datetime) -> seed.AssessmentData:
    """The demo's latest CAASPP file of San Diego's county office (one school: small and quick)."""
    return [item for item in seed.demo_assessments(now)
            if item.organization_id == "san-diego-coe" and item.importer == "caaspp-student-scores"][-1]


# -- the tests --------------------------------------------------------------------------------------
def test_a_broken_link_delays_records_and_loses_none(federation):
    link, region = federation.links[REGION], federation.regions[REGION]
    link.cut()
    try:
        for n in range(RENAMES_PER_OUTAGE):
            rename(federation, RENAMED, f"cut {n}")
        new_community(federation, "link-cut-plc")
        expected = current_names(federation, [*RENAMED, "link-cut-plc"])
        # The region kept sharing: its share stream holds the newest names ...
        wait_until(lambda: catalog_names_shared(federation, list(expected)) == expected, CATCH_UP_SECONDS,
                   "the renamed communities' records in the share stream")
        # ... and none of them crossed a link that is down.
        at_hub = catalog_names_at_hub(federation, list(expected))
        assert not set(at_hub.items()) & set(expected.items()), at_hub
        # Nothing is held back in the share service's outbox: the share stream took it all (a record
        # committed a moment ago may still be on its way, so wait rather than look once).
        status = lambda: region.share(admin_token(region)).GetShareStatus(share_pb2.GetShareStatusRequest())  # noqa: E731
        wait_until(lambda: status().pending == 0, CATCH_UP_SECONDS, "the share service's outbox drained")
    finally:
        link.restore()
    wait_for_the_hub_to_catch_up(federation, [*RENAMED, "link-cut-plc"], CATCH_UP_SECONDS)
    assert_every_version_applied_once_in_order(federation, REGION)
    # Several versions of each renamed community crossed after the outage, not only the newest.
    history = hub_history(federation.hub, REGION)
    assert all(len(history[("catalog", f"community:{c}")]) > RENAMES_PER_OUTAGE for c in RENAMED)


@dataclass
class HubOutage:
    """What the region did while the hub was down and restarted (the link cut meanwhile)."""

    created: str
    import_outcome: str
    community_created_events: int
    dataset_events: int
    shared_while_down: dict[str, str]
    hub_had_while_down: dict[str, str]


@pytest.fixture(scope="module")
def hub_outage(federation) -> HubOutage:
    hub, region, link = federation.hub, federation.regions[REGION], federation.links[REGION]
    api = admin(region)
    link.cut()
    try:
        hub.stop_process("statewide")
        hub.stop_process("nats")
        # The region works fully: a community created and opened, a teacher signed up, renames,
        # an assessment file imported until READY (the seed waits for it), each its own events.
        created = "hub-down-plc"
        new_community(federation, created)
        rename(federation, RENAMED, "hub down")
        imported = one_assessment_file(dt.datetime.now(dt.UTC)).load(api, dt.datetime.now(dt.UTC))
        wait_until(lambda: [e for e in published(region, "membership.community.created") if e.subject == created],
                   30, "the new community's event on the region's own stream")
        expected = current_names(federation, [*RENAMED, created])
        wait_until(lambda: catalog_names_shared(federation, list(expected)) == expected, CATCH_UP_SECONDS,
                   "the region's records piling up in its share stream")
        shared_while_down = catalog_names_shared(federation, list(expected))
        # The hub restarts during the outage (its nats-server, then its statewide service) and
        # the region changes more while the link is still down.
        hub.start_process("nats")
        hub.start_process("statewide")
        hub.wait_until_healthy()
        hub_had = catalog_names_at_hub(federation, list(expected))
        rename(federation, RENAMED, "after hub restart")
    finally:
        link.restore()
    return HubOutage(created, imported, len(published(region, "membership.community.created")),
                     len(published(region, "reflection.dataset.*")), shared_while_down, hub_had)


def test_the_region_works_fully_while_the_hub_is_down(federation, hub_outage):
    region = federation.regions[REGION]
    assert hub_outage.import_outcome == seed.CREATED
    api = admin(region)
    community = api.get(f"/communities/{hub_outage.created}")
    assert community["status"] == "open"
    registrations = api.get(f"/communities/{hub_outage.created}/registrations")["items"]
    assert [r["person_id"] for r in registrations] == ["daniel-kim"]
    # Its events flowed locally: on the region's stream, and applied by the region's consumers.
    assert hub_outage.dataset_events > 0
    assert hub_outage.community_created_events >= len(seed.DEMO_COMMUNITIES) + 1
    # What it shares piled up in the share stream, and none of it had reached the (stopped) hub.
    assert hub_outage.shared_while_down[hub_outage.created] == community["name"]
    assert not set(hub_outage.hub_had_while_down.items()) & set(hub_outage.shared_while_down.items())


def test_a_hub_restart_during_the_outage_loses_nothing(federation, hub_outage):
    communities = [*RENAMED, hub_outage.created]
    wait_for_the_hub_to_catch_up(federation, communities, HUB_RESTART_CATCH_UP_SECONDS)
    assert_every_version_applied_once_in_order(federation, REGION)
    assert catalog_names_at_hub(federation, communities) == current_names(federation, communities)
    # The imported file's figures crossed too (reflection's measures, the share service's records).
    wait_until(lambda: any(kind == "measures" for kind, _ in hub_history(federation.hub, REGION)), CATCH_UP_SECONDS,
               "the imported file's measures at the hub")
    wait_for_the_hub_to_catch_up(federation, communities, CATCH_UP_SECONDS)
    assert_every_version_applied_once_in_order(federation, REGION)
