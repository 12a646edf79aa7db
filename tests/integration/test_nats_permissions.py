"""NATS credentials per service: each service connects to the embedded nats-server as its own user
and may publish only its own events, so no service (and nothing without a password) can publish
another's, e.g. forge the plugins service's configuration events."""

from __future__ import annotations

import asyncio

import nats
import nats.js.errors
import pytest
from copnet import stack as stacklib
from copnet.events.v1 import events_pb2
from copnet.kernel.events import CloudEvent, source_for
from copnet.kernel.federation import share_stream_name, share_subject

from tests.integration.jetstream_events import published
from tests.support.stack import TEST_SECRET

pytestmark = pytest.mark.integration


def as_service(services, service: str) -> dict:
    return {"user": service, "password": stacklib.nats_password(TEST_SECRET, service)}


def try_publish(services, credentials: dict, event: CloudEvent) -> tuple[bool, list[str]]:
    """Publish `event` onto the stream with those credentials: (acknowledged, the server's errors)."""
    errors: list[str] = []

    async def go() -> bool:
        async def on_error(error):
            errors.append(str(error))

        connection = await nats.connect(services.plan.nats_url, error_cb=on_error, allow_reconnect=False,
                                        **credentials)
        try:
            await connection.jetstream().publish(event.nats_subject(services.settings.region), event.body(),
                                                 headers=event.headers(), timeout=2)
            return True
        except (TimeoutError, nats.errors.TimeoutError):
            return False
        finally:
            await connection.close()

    return asyncio.run(go()), errors


def config_changed(services, organization_id: str) -> CloudEvent:
    return CloudEvent.of("copnet.plugins.config.changed", source_for(services.settings.region, "plugins"),
                         f"{organization_id}/local-eligibility", events_pb2.PluginConfigChanged(
                             organization_id=organization_id, plugin="local-eligibility", version=2 ** 40))


def test_a_service_cannot_publish_onto_another_services_subject(services):
    forged = config_changed(services, "natsperm-forged")
    acknowledged, errors = try_publish(services, as_service(services, "membership"), forged)
    assert not acknowledged
    assert any("permissions violation" in error.lower() for error in errors), errors
    assert not [event for event in published(services, "plugins.config.changed") if event.id == forged.id]


def test_a_service_publishes_its_own_events(services):
    # A type nobody consumes: nothing else in the stack reacts to it.
    own = CloudEvent.of("copnet.membership.permission.checked", source_for(services.settings.region, "membership"),
                        "natsperm-own", events_pb2.OrganizationCreated())
    acknowledged, errors = try_publish(services, as_service(services, "membership"), own)
    assert acknowledged, errors
    assert [event.id for event in published(services, "membership.permission.checked") if event.id == own.id]


def test_nothing_connects_without_a_password(services):
    with pytest.raises(Exception, match="Authorization Violation"):
        try_publish(services, {}, config_changed(services, "natsperm-anonymous"))
    with pytest.raises(Exception, match="Authorization Violation"):
        try_publish(services, {"user": "plugins", "password": "guessed"}, config_changed(services, "natsperm-guess"))


def test_only_the_share_service_publishes_onto_the_share_stream(services):
    """The share subjects are the share service's alone; its publish reaches the share stream in the
    SHARE account through COPNET's import (here refused by the stream's own precondition, so nothing
    is stored: the stream answered, which is what this shows)."""
    region = services.settings.region
    subject, stream = share_subject(region, "cycles"), share_stream_name(region)
    never_stored = {"Nats-Expected-Last-Sequence": str(2 ** 62)}

    async def publish(credentials: dict) -> tuple[str, list[str]]:
        errors: list[str] = []

        async def on_error(error):
            errors.append(str(error))

        connection = await nats.connect(services.plan.nats_url, error_cb=on_error, allow_reconnect=False,
                                        **credentials)
        try:
            await connection.jetstream().publish(subject, b"{}", headers=never_stored, timeout=2)
            return "stored", errors
        except nats.js.errors.APIError as error:
            return f"refused by the stream: {error.description}", errors
        except (TimeoutError, nats.errors.TimeoutError, nats.errors.NoRespondersError):
            return "no answer", errors
        finally:
            await connection.close()

    services.wait_for(lambda: asyncio.run(share_stream_exists(services, stream)), 60, "the share stream")
    outcome, errors = asyncio.run(publish(as_service(services, "share")))
    assert outcome.startswith("refused by the stream: wrong last sequence"), (outcome, errors)
    outcome, errors = asyncio.run(publish(as_service(services, "membership")))
    assert outcome == "no answer"
    assert any("permissions violation" in error.lower() for error in errors), errors


async def share_stream_exists(services, stream: str) -> bool:
    connection = await nats.connect(services.plan.share_operator_url, allow_reconnect=False)
    try:
        await connection.jetstream().stream_info(stream)
        return True
    except nats.js.errors.NotFoundError:
        return False
    finally:
        await connection.close()
