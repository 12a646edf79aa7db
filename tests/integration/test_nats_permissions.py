"""NATS credentials per service: each service connects to the embedded nats-server as its own user
and may publish only its own events, so no service (and nothing without a password) can publish
another's, e.g. forge the plugins service's configuration events."""

from __future__ import annotations

import asyncio

import nats
import pytest
from copnet import stack as stacklib
from copnet.events.v1 import events_pb2
from copnet.kernel.events import CloudEvent, source_for

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
        except (nats.errors.TimeoutError, asyncio.TimeoutError):
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
