"""The plugins service's roster import against a fake membership: people are read and created in
batches (a district of 100,000 staff is a few hundred calls, not 200,000), each refusal reported,
and an answer lists a bounded number of errors."""

from __future__ import annotations

from copnet.membership.v1 import membership_pb2
from copnet.pluginapi import RosterAffiliation, RosterBatch, RosterPerson, RosterRowError
from copnet.plugins import roster_import
from copnet.plugins.roster_import import BATCH_CALL_SECONDS, MAX_LISTED_ERRORS, PEOPLE_PER_CALL, RosterImport


class FakeMembership:
    """BatchGetPeople and BatchCreatePeople over a dict of people; refuses the emails it is told to."""

    def __init__(self, existing: dict[str, membership_pb2.Person] | None = None, taken_emails=()):
        self.people = dict(existing or {})
        self.taken_emails = set(taken_emails)
        self.calls: list[tuple[str, int]] = []

    def BatchGetPeople(self, request, timeout=None):
        assert timeout == BATCH_CALL_SECONDS  # not the 5 s default: a batch of 500 may take seconds
        self.calls.append(("BatchGetPeople", len(request.ids)))
        return membership_pb2.BatchGetPeopleResponse(people=[self.people[i] for i in request.ids if i in self.people])

    def BatchCreatePeople(self, request, timeout=None):
        assert timeout == BATCH_CALL_SECONDS
        self.calls.append(("BatchCreatePeople", len(request.requests)))
        results = []
        for one in request.requests:
            if one.email in self.taken_emails:
                results.append(membership_pb2.PersonCreation(person_id=one.person_id, reason="DUPLICATE_EMAIL",
                                                             message=f"someone already has the email {one.email!r}"))
            elif one.person_id in self.people:
                results.append(membership_pb2.PersonCreation(person_id=one.person_id, reason="DUPLICATE_ID"))
            else:
                self.people[one.person_id] = membership_pb2.Person(
                    id=one.person_id, name=one.name, email=one.email, affiliations=one.affiliations)
                results.append(membership_pb2.PersonCreation(person_id=one.person_id, created=True))
        return membership_pb2.BatchCreatePeopleResponse(results=results)


def staff(count: int, school: str = "s1") -> RosterBatch:
    batch = RosterBatch()
    for n in range(count):
        batch.people.append(RosterPerson(id=f"t{n}", name=f"Teacher {n}", email=f"t{n}@x.org"))
        batch.affiliations.append(RosterAffiliation(person_id=f"t{n}", organization_id=school, position="teacher"))
    return batch


def test_people_are_read_and_created_in_batches_then_found_unchanged():
    membership = FakeMembership()
    count = PEOPLE_PER_CALL * 2 + 1
    first = RosterImport(membership).run("oneroster", staff(count))
    assert (first.people.created, first.affiliations.created, list(first.errors)) == (count, count, [])
    assert membership.calls == [("BatchGetPeople", PEOPLE_PER_CALL), ("BatchCreatePeople", PEOPLE_PER_CALL),
                                ("BatchGetPeople", PEOPLE_PER_CALL), ("BatchCreatePeople", PEOPLE_PER_CALL),
                                ("BatchGetPeople", 1), ("BatchCreatePeople", 1)]
    membership.calls.clear()
    again = RosterImport(membership).run("oneroster", staff(count))
    assert (again.people.unchanged, again.affiliations.unchanged, again.people.created) == (count, count, 0)
    assert [name for name, _ in membership.calls] == ["BatchGetPeople"] * 3


def test_a_dry_run_reads_but_writes_nothing():
    membership = FakeMembership()
    report = RosterImport(membership, dry_run=True).run("oneroster", staff(3))
    assert report.people.created == 3 and membership.people == {}
    assert [name for name, _ in membership.calls] == ["BatchGetPeople"]


def test_each_refused_person_is_reported_and_someone_out_of_reach_counts_as_present():
    hidden = membership_pb2.Person(id="t1", name="Teacher 1", email="t1@x.org")
    membership = FakeMembership(taken_emails={"t2@x.org"})

    def get_without_hidden(request, timeout=None):  # t1 exists but the importer may not read them: created -> DUPLICATE_ID
        return membership_pb2.BatchGetPeopleResponse()

    membership.BatchGetPeople = get_without_hidden
    membership.people["t1"] = hidden
    report = RosterImport(membership).run("oneroster", staff(3))
    assert (report.people.created, report.people.unchanged, report.people.failed) == (1, 1, 1)
    [error] = report.errors
    assert (error.kind, error.record) == ("person", "t2")
    assert error.message.startswith("membership refused (DUPLICATE_EMAIL)")


def test_an_answer_lists_at_most_max_listed_errors_and_counts_the_rest():
    batch = RosterBatch(errors=[RosterRowError(file="users.csv", row=n + 2, message="bad") for n in range(1500)])
    report = RosterImport(FakeMembership()).run("oneroster", batch)
    assert len(report.errors) == MAX_LISTED_ERRORS + 1
    assert report.errors[-1].message == f"... and {1500 - MAX_LISTED_ERRORS:,} more not listed (the first 1,000 are)"
    assert roster_import.listed_errors(list(report.errors[:3])) == list(report.errors[:3])


def test_the_gateway_reports_a_whole_file_as_row_0_and_a_refused_write_without_a_row():
    from copnet.gateway.convert import plugins as convert
    from copnet.plugins.v1 import plugins_pb2

    report = convert.import_report(plugins_pb2.ImportRosterResponse(plugin="oneroster", errors=[
        plugins_pb2.RosterImportError(file="orgs.csv", row=0, message="orgs.csv is missing from the bundle"),
        plugins_pb2.RosterImportError(file="users.csv", row=7, message="no usable email"),
        plugins_pb2.RosterImportError(kind="person", record="t1", message="membership refused")]))
    assert [(e.file, e.row) for e in report.errors] == [("orgs.csv", 0), ("users.csv", 7), (None, None)]


def test_a_roster_request_of_the_largest_body_fits_every_grpc_message_limit():
    from copnet.gateway.convert import plugins as convert
    from copnet.gateway.schemas.plugins import RosterImportCreate
    from copnet.kernel import limits

    text = "x" * (limits.ROSTER_IMPORT_MAX_BODY_BYTES - 100)  # as much as a body can carry
    request = convert.import_request("coe", RosterImportCreate(source="oneroster", files={"users.csv": text}))
    assert request.ByteSize() <= limits.GRPC_MAX_MESSAGE_BYTES
    assert dict(limits.GRPC_MESSAGE_OPTIONS)["grpc.max_receive_message_length"] == limits.GRPC_MAX_MESSAGE_BYTES
