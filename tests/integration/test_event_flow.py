"""Events end to end over real NATS JetStream, real SecantusDB and real service processes."""

from __future__ import annotations

import asyncio
import json

import grpc
import nats
import pymongo
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2 as server_reflection
from grpc_reflection.v1alpha import reflection_pb2_grpc as server_reflection_grpc

from copnet.events.v1 import events_pb2
from copnet.kernel.events import CloudEvent, dead_letter_stream_name, source_for, stream_name
from copnet.kernel.settings import SERVICE_NAMES
from copnet.membership.v1 import membership_pb2
from copnet.reflection.v1 import reflection_pb2
from copnet.resources.v1 import resources_pb2
from copnet.scheduling.v1 import scheduling_pb2
from tests.integration import http

pytestmark = pytest.mark.integration

FULL_NAMES = {
    "membership": "copnet.membership.v1.MembershipService",
    "scheduling": "copnet.scheduling.v1.SchedulingService",
    "resources": "copnet.resources.v1.ResourcesService",
    "reflection": "copnet.reflection.v1.ReflectionService",
    "plugins": "copnet.plugins.v1.PluginService",
    "share": "copnet.share.v1.ShareService",
}


def create_county(services, suffix: str) -> str:
    admin = services.token("platform_admin")
    for org_id, kind, parent in ((f"st-{suffix}", membership_pb2.ORGANIZATION_KIND_STATE, ""),
                                 (f"rg-{suffix}", membership_pb2.ORGANIZATION_KIND_REGION, f"st-{suffix}"),
                                 (f"co-{suffix}", membership_pb2.ORGANIZATION_KIND_COUNTY_OFFICE, f"rg-{suffix}")):
        services.membership(admin).CreateOrganization(membership_pb2.CreateOrganizationRequest(
            organization_id=org_id, name=org_id, kind=kind, parent_id=parent, time_zone="America/Los_Angeles"))
    return f"co-{suffix}"


def create_community(services, county: str, community_id: str) -> None:
    services.membership(services.token("county_admin", county)).CreateCommunity(membership_pb2.CreateCommunityRequest(
        community_id=community_id, name=community_id, kind=membership_pb2.COMMUNITY_KIND_PLC, host_organization_id=county))


def community_count(services, county: str) -> int:
    reply = services.reflection().GetCommunityCount(reflection_pb2.GetCommunityCountRequest(county_office_id=county))
    return reply.community_count.communities


def has_calendar_and_library(services, community_id: str) -> bool:
    try:
        services.scheduling().GetCalendar(scheduling_pb2.GetCalendarRequest(community_id=community_id))
        services.resources().GetLibrary(resources_pb2.GetLibraryRequest(community_id=community_id))
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return False
        raise
    return True


def database(services, service: str):
    client = pymongo.MongoClient(services.mongodb_uri)
    return client, client[services.settings.database_name(service)]


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_every_service_answers_health_checks_and_reflection(services, service):
    channel = grpc.insecure_channel(services.settings.address_of(service))
    try:
        health = health_pb2_grpc.HealthStub(channel)
        for name in ("", FULL_NAMES[service]):
            reply = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        reflection = server_reflection_grpc.ServerReflectionStub(channel)
        replies = reflection.ServerReflectionInfo(iter([server_reflection.ServerReflectionRequest(list_services="")]),
                                                  timeout=5)
        listed = {s.name for reply in replies for s in reply.list_services_response.service}
        assert FULL_NAMES[service] in listed
        assert "grpc.health.v1.Health" in listed
    finally:
        channel.close()


def test_community_created_reaches_calendar_library_and_county_count(services):
    county = create_county(services, "flow")
    create_community(services, county, "flow-plc")
    services.wait_for(lambda: has_calendar_and_library(services, "flow-plc"), what="calendar and library")
    services.wait_for(lambda: community_count(services, county) == 1, what="county count")


def create_community_over_http(stack, county: str, community_id: str) -> None:
    reply = http.request("POST", f"{stack.gateway_url}/api/v1/communities", token=stack.token("county_admin", county),
                         json_body={"id": community_id, "name": community_id, "kind": "plc",
                                    "host_organization_id": county})
    assert reply.status == 201, reply.text


def test_writes_succeed_while_nats_is_down_and_every_event_arrives_once_after(stack):
    services = stack
    county = create_county(services, "outage")
    ids = [f"outage-{n:03d}" for n in range(100)]
    for community_id in ids[:30]:
        create_community_over_http(stack, county, community_id)
    services.stop_process("nats")
    try:
        for community_id in ids[30:70]:
            create_community_over_http(stack, county, community_id)   # must not fail: events wait in the outbox
        client, membership_db = database(services, "membership")
        with client:
            assert membership_db.outbox.count_documents({}) >= 40
    finally:
        services.restart_process("nats")
    for community_id in ids[70:]:
        create_community_over_http(stack, county, community_id)

    services.wait_for(lambda: community_count(services, county) == 100, timeout=90,
                      what="all 100 communities counted")
    services.wait_for(lambda: all(has_calendar_and_library(services, c) for c in ids), timeout=60,
                      what="calendars and libraries")
    for service, collection in (("scheduling", "calendars"), ("resources", "libraries")):
        client, service_db = database(services, service)
        with client:
            assert service_db[collection].count_documents({"community_id": {"$in": ids}}) == 100
    client, membership_db = database(services, "membership")
    with client:
        services.wait_for(lambda: membership_db.outbox.count_documents({}) == 0, what="outbox drained")
    # Counted exactly once each, even with redeliveries around the outage.
    assert community_count(services, county) == 100


def publish(services, subject: str, body: bytes, headers: dict[str, str]) -> None:
    async def go():
        connection = await nats.connect(services.nats_url)
        try:
            await connection.jetstream().publish(subject, body, headers=headers, timeout=5)
        finally:
            await connection.close()

    asyncio.run(go())


def dead_letters(services) -> list[dict[str, str]]:
    async def go():
        connection = await nats.connect(services.nats_url)
        try:
            js = connection.jetstream()
            info = await js.stream_info(dead_letter_stream_name(services.settings.region))
            found = []
            for sequence in range(max(info.state.first_seq, 1), info.state.last_seq + 1):
                try:
                    message = await js.get_msg(dead_letter_stream_name(services.settings.region), sequence)
                except nats.js.errors.NotFoundError:
                    continue
                found.append({**(message.headers or {}), "subject": message.subject})
            return found
        finally:
            await connection.close()

    return asyncio.run(go())


def test_an_event_delivered_again_after_the_duplicate_window_is_applied_once(services):
    county = create_county(services, "dup")
    create_community(services, county, "dup-plc")
    services.wait_for(lambda: community_count(services, county) == 1, what="first delivery")
    # The same event (same source and id) published again under a new Nats-Msg-Id, as happens when a
    # relay re-publishes after JetStream's duplicate window: the consumers' inboxes must drop it.
    # (About a community of its own: reflection counts each community once whatever its events.)
    event = CloudEvent.of("copnet.membership.community.created", source_for("test", "membership"), "dup-plc-2",
                          events_pb2.CommunityCreated(community_id="dup-plc-2", name="dup-plc-2", kind="plc",
                                                      host_organization_id=county, county_office_id=county),
                          id="dup-event-id")
    for attempt in range(2):
        headers = {**event.headers(), "Nats-Msg-Id": f"republish-{attempt}"}
        publish(services, event.nats_subject("test"), event.body(), headers)
    services.wait_for(lambda: community_count(services, county) == 2, what="re-published event counted once")
    client, reflection_db = database(services, "reflection")
    with client:
        services.wait_for(lambda: reflection_db.inbox.count_documents({"_id": {"$regex": "dup-event-id$"}}) == 1,
                          what="one inbox record")
    # Give any second application its chance to happen, then check it did not.
    services.wait_for(lambda: has_calendar_and_library(services, "dup-plc-2"), what="other consumers")
    assert community_count(services, county) == 2


def test_malformed_message_goes_to_the_dead_letter_stream(services):
    publish(services, "copnet.test.membership.community.created", b"not json",
            {"ce-specversion": "1.0", "ce-id": "poison-1"})
    services.wait_for(lambda: any(d.get("ce-id") == "poison-1" for d in dead_letters(services)), timeout=30,
                      what="dead letter for malformed message")
    letters = [d for d in dead_letters(services) if d.get("ce-id") == "poison-1"]
    assert {d["copnet-original-subject"] for d in letters} == {"copnet.test.membership.community.created"}
    assert all("missing CloudEvents header" in d["copnet-error"] for d in letters)


def test_event_whose_handler_keeps_failing_is_dead_lettered_after_max_deliver(services):
    event = CloudEvent(type="copnet.membership.community.created", source=source_for("test", "membership"),
                       subject="broken", data={"community_id": {"not": "a string"}}, id="poison-2")
    publish(services, event.nats_subject("test"), event.body(), event.headers())
    services.wait_for(lambda: {d["subject"] for d in dead_letters(services) if d.get("ce-id") == "poison-2"}
                      == {"copnet-dlq.test.scheduling.calendars", "copnet-dlq.test.resources.libraries",
                          "copnet-dlq.test.reflection.community-counts"},
                      timeout=60, what="each consumer dead-letters the poison event")
    letters = [d for d in dead_letters(services) if d.get("ce-id") == "poison-2"]
    assert all(json.dumps(d) and d["copnet-error"] for d in letters)


def test_a_service_started_while_nats_is_down_serves_writes_and_publishes_later(services):
    county = create_county(services, "cold")
    services.stop_process("membership")
    services.stop_process("nats")
    try:
        services.processes["membership"].start()
        services.wait_for(lambda: services.clients["membership"].health_status() == "SERVING",
                          what="membership SERVING without NATS")
        assert services.clients["membership"].health_status("copnet.dependency.nats") == "NOT_SERVING"
        create_community(services, county, "cold-plc")
    finally:
        services.restart_process("nats")
    services.wait_for(lambda: community_count(services, county) == 1, timeout=60, what="event published later")
    services.wait_for(lambda: services.clients["membership"].health_status("copnet.dependency.nats") == "SERVING",
                      what="NATS reported back")


def test_a_mongodb_outage_answers_503_and_dead_letters_nothing(stack):
    services = stack
    county = create_county(services, "dbdown")
    event = CloudEvent.of("copnet.membership.community.created", source_for("test", "membership"), "dbdown-plc",
                          events_pb2.CommunityCreated(community_id="dbdown-plc", name="dbdown-plc", kind="plc",
                                                      host_organization_id=county, county_office_id=county),
                          id="dbdown-event")
    services.stop_process("mongodb")
    try:
        reply = http.request("POST", f"{stack.gateway_url}/api/v1/communities", token=stack.token("county_admin", county),
                             json_body={"name": "x", "kind": "plc", "host_organization_id": county})
        assert reply.status == 503, reply.text
        assert reply.media_type == "application/problem+json"
        # An event arriving meanwhile waits for the database instead of burning its deliveries.
        publish(services, event.nats_subject("test"), event.body(), event.headers())
        services.wait_for(lambda: "waits for MongoDB" in services.logs("reflection"), timeout=30,
                          what="reflection waiting for MongoDB")
    finally:
        services.restart_process("mongodb")
    services.wait_for(lambda: community_count(services, county) == 1, timeout=60, what="event applied after outage")
    services.wait_for(lambda: has_calendar_and_library(services, "dbdown-plc"), what="calendar and library")
    assert not [d for d in dead_letters(services) if d.get("ce-id") == "dbdown-event"]


def last_event_headers(services, community_id: str) -> dict[str, str]:
    async def go():
        connection = await nats.connect(services.nats_url)
        try:
            message = await connection.jetstream().get_last_msg(
                stream_name(services.settings.region), "copnet.test.membership.community.created")
            return dict(message.headers or {})
        finally:
            await connection.close()

    return asyncio.run(go())


def test_the_callers_trace_context_travels_from_the_gateway_into_the_event(stack):
    county = create_county(stack, "trace")
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    reply = http.request("POST", f"{stack.gateway_url}/api/v1/communities", token=stack.token("county_admin", county),
                         headers={"traceparent": traceparent},
                         json_body={"id": "trace-plc", "name": "trace", "kind": "plc", "host_organization_id": county})
    assert reply.status == 201, reply.text
    stack.wait_for(lambda: last_event_headers(stack, "trace-plc").get("ce-subject") == "trace-plc",
                   what="event on the stream")
    assert last_event_headers(stack, "trace-plc")["traceparent"] == traceparent
