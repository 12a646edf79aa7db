"""Standing check: nothing private rests on the bus.

JetStream keeps events 30 days and dead letters 90, and whoever may read the streams reads every
message. After the demo network is loaded and a region configures the plugins that hold secrets
(a webhook URL and signing secret, an SMTP password) and a person is created, changed and granted
a role, and reminders go out, every message of every stream of the instance is read — payload and headers — and none
may carry a secret value or an e-mail address: events say what changed (ids), and readers ask the
owning service, over authenticated gRPC, for the rest.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from copnet import seed
from copnet.api_client import ApiClient
from tests.integration.jetstream_events import StoredMessage, about, every_stored_message, published
from tests.support.stack import own_demo_stack

pytestmark = pytest.mark.integration

REGION = "ca-bay-area"
# An e-mail address anywhere in a text (local part, @, a domain with a dot).
EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
NEW_PERSON = "privacy-check-person"
# A pseudonym is a hex digest; the synthetic students' ids are SYN and twelve digits.
HEX_WORD = re.compile(r"[0-9a-f]{16,}")
SYNTHETIC_STUDENT_ID = re.compile(r"SYN[0-9]{12}")


@pytest.fixture(scope="module")
def private_stack(tmp_path_factory):
    """A stack of its own: only what this test (and the demo) wrote is on its streams."""
    with own_demo_stack(tmp_path_factory.mktemp("privacy")) as running:
        yield running


@pytest.fixture(scope="module")
def secret_values(private_stack) -> dict[str, str]:
    """What a regional lead and a county admin do after the demo; the secret values they set."""
    stack = private_stack
    # Destinations on loopback, which the tests' instances allow (public names would need DNS).
    values = {"webhook url": f"http://127.0.0.1:9/hooks/{secrets.token_hex(12)}",
              "webhook signing_secret": f"whsec-{secrets.token_hex(16)}",
              "smtp password": f"smtp-{secrets.token_hex(16)}"}
    lead = ApiClient(stack.gateway_url, stack.token("regional_lead", REGION, person="elena-torres"))
    lead.put(f"/regions/{REGION}/plugins/webhook-notify", {"enabled": True, "settings": {
        "url": values["webhook url"], "signing_secret": values["webhook signing_secret"]}})
    lead.put(f"/regions/{REGION}/plugins/email-notify", {"enabled": True, "settings": {
        "host": "127.0.0.1", "port": 587, "security": "starttls", "username": "bay-area-reminders",
        "password": values["smtp password"], "from_address": "reminders@bay-area.example.org",
        "reply_to": "help@bay-area.example.org"}})
    county = ApiClient(stack.gateway_url, stack.token("county_admin", "alameda-coe", person="privacy-admin"))
    county.post("/people", {"id": NEW_PERSON, "name": "Priva Check", "email": "priva.check@lakeview.example.org",
                            "affiliations": [{"organization_id": "lakeview-ms", "position": "teacher"}]})
    county.patch(f"/people/{NEW_PERSON}", {"email": "priva.check@eastbay.example.org"})
    county.post(f"/people/{NEW_PERSON}/roles", {"role": "facilitator", "organization_id": "lakeview-ms"})
    # Reminders of the first convening: one event per person, delivered by the notifiers above.
    admin = ApiClient(stack.gateway_url, stack.token("platform_admin", person=seed.SEED_PERSON_ID))
    first = admin.get("/sessions/bay-ratios-plc-monthly/occurrences")["items"][0]
    due = dt.datetime.fromisoformat(first["start_time"]) - dt.timedelta(hours=23)
    emitted = admin.post("/reminders/run", {"now": due.strftime("%Y-%m-%dT%H:%M:%SZ")})["emitted"]
    assert emitted > 0
    # The outbox relays after the commit: wait until the last of each is on the stream.
    stack.wait_for(lambda: len(published(stack, "scheduling.session.reminder")) == emitted, 30, "the reminders")
    stack.wait_for(lambda: len(about(stack, "membership.person.*", NEW_PERSON)) == 3, 30, "the person's events")
    stack.wait_for(lambda: len(published(stack, "plugins.config.changed")) >= 3, 30, "the configurations' events")
    return values


def exposures(message: StoredMessage, secret_values: dict[str, str]) -> list[str]:
    """What `message` carries that it must not: secret values by name, e-mail addresses as found."""
    texts = [message.data.decode("utf-8", "replace"), *(f"{name}: {value}" for name, value in message.headers.items())]
    found = [f"the {name}" for name, value in secret_values.items() if any(value in text for text in texts)]
    found += sorted({address for text in texts for address in EMAIL.findall(text)})
    return found


def test_no_stream_keeps_a_secret_or_an_email_address(private_stack, secret_values):
    stored = every_stored_message(private_stack)
    # The read saw the events (a reader that found nothing would pass anything).
    assert any(message.subject.endswith(".membership.person.created") for message in stored)
    assert any(message.subject.endswith(".plugins.config.changed") for message in stored)
    found = [f"{message.stream} #{message.sequence} {message.subject}: {', '.join(exposed)}"
             for message in stored if (exposed := exposures(message, secret_values))]
    assert found == [], f"{len(found)} of {len(stored)} stored messages carry private data:\n" + "\n".join(found)


def test_no_stream_keeps_a_student_pseudonym_or_id(private_stack, secret_values):
    """The demo's synthetic assessment data is imported (every data set READY): no message names
    a student — neither the pseudonym kept in the region's store nor the id the file had."""
    stack = private_stack
    store = Path(stack.settings.reflection_store_dir or stack.settings.data_dir / "reflection").resolve()
    kept = [pq.read_table(path, columns=["pseudonym"]).column("pseudonym") for path in store.glob("*/students.parquet")]
    pseudonyms = {value for column in kept for value in column.to_pylist()}
    assert len(pseudonyms) > 1000, "the demo's assessment data was not imported"
    stored = every_stored_message(private_stack)
    assert any(message.subject.endswith(".reflection.dataset.imported") for message in stored)
    found = []
    for message in stored:
        texts = [message.data.decode("utf-8", "replace"), *map(str, message.headers.values())]
        named = {match for text in texts for match in HEX_WORD.findall(text) if match in pseudonyms}
        named |= {match for text in texts for match in SYNTHETIC_STUDENT_ID.findall(text)}
        if named:
            found.append(f"{message.stream} #{message.sequence} {message.subject}: {len(named)} student(s)")
    assert found == [], f"{len(found)} stored messages name students:\n" + "\n".join(found)
