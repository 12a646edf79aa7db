"""Roster imports: a plugin's roster source reads the files, membership's API writes the records.

Idempotent: each record is created when missing, updated when it differs, left alone otherwise.
Every write goes through membership with the caller's token, so its access rules apply; a record
membership refuses is reported (kind, id, why) and the rest goes on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import grpc

from copnet.kernel.enums import GRADE_BAND_LABEL, GRADE_BAND_SPELLING, from_label, to_label
from copnet.kernel.errors import FailedPrecondition, details_of
from copnet.kernel.plugin_host import PluginCallFailed, PluginHost, PluginUnavailable
from copnet.membership.v1 import membership_pb2
from copnet.membership.v1.membership_pb2_grpc import MembershipServiceStub
from copnet.pluginapi import RosterAffiliation, RosterBatch, RosterOrganization, RosterPerson
from copnet.plugins.v1 import plugins_pb2

# People read and created per call to membership (its batch calls take at most 1,000).
PEOPLE_PER_CALL = 500
# A batch call's deadline: far above the default one (a call of 500 people took 2-4 s on a loaded
# two-core machine; past the deadline the import would report as refused people membership then
# wrote anyway), far below the import's own.
BATCH_CALL_SECONDS = 60.0
# Rows and records an import's answer lists; the rest are counted in one last line.
MAX_LISTED_ERRORS = 1000


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0

    def message(self) -> plugins_pb2.ImportCounts:
        return plugins_pb2.ImportCounts(created=self.created, updated=self.updated, unchanged=self.unchanged,
                                        failed=self.failed)


def listed_errors(errors: list[plugins_pb2.RosterImportError]) -> list[plugins_pb2.RosterImportError]:
    """The first MAX_LISTED_ERRORS, then one line counting the rest: a bundle of bad rows must not
    make an answer larger than the bundle (the counts still count every record)."""
    if len(errors) <= MAX_LISTED_ERRORS:
        return errors
    more = len(errors) - MAX_LISTED_ERRORS
    return [*errors[:MAX_LISTED_ERRORS], plugins_pb2.RosterImportError(
        message=f"... and {more:,} more not listed (the first {MAX_LISTED_ERRORS:,} are)")]


@dataclass
class Entry:
    """One person of the roster (None: only affiliations name them) and their affiliations."""

    person_id: str
    person: RosterPerson | None
    affiliations: list[RosterAffiliation]


class Refused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def grade_band(value: str) -> int:
    """A roster's grade band, spelled `K-2` or as the label `k_2`, as the proto value."""
    value = value.strip()
    label = GRADE_BAND_LABEL.get(value.upper(), value.lower() if value.lower() in GRADE_BAND_SPELLING else None)
    if label is None:
        raise Refused(f"unknown grade band {value!r} ({', '.join(GRADE_BAND_LABEL)})")
    return from_label(membership_pb2.GradeBand, label)


def position(value: str) -> int:
    try:
        return from_label(membership_pb2.Position, value.strip().lower())
    except ValueError:
        raise Refused(f"unknown position {value!r}") from None


def organization_kind(value: str) -> int:
    try:
        return from_label(membership_pb2.OrganizationKind, value.strip().lower())
    except ValueError:
        raise Refused(f"unknown organization kind {value!r}") from None


def parents_first(organizations: list[RosterOrganization]) -> list[RosterOrganization]:
    """Organizations ordered so that a parent in the batch comes before its children."""
    by_id = {org.id: org for org in organizations}
    ordered, placed = [], set()

    def place(org: RosterOrganization, path: tuple[str, ...] = ()) -> None:
        if org.id in placed or org.id in path:
            return
        parent = by_id.get(org.parent_id)
        if parent is not None:
            place(parent, (*path, org.id))
        placed.add(org.id)
        ordered.append(org)

    for org in organizations:
        place(org)
    return ordered


@dataclass
class RosterImport:
    membership: MembershipServiceStub  # bound to the caller (their token forwarded)
    dry_run: bool = False
    organizations: Counts = field(default_factory=Counts)
    people: Counts = field(default_factory=Counts)
    affiliations: Counts = field(default_factory=Counts)
    errors: list[plugins_pb2.RosterImportError] = field(default_factory=list)

    def run(self, plugin: str, batch: RosterBatch, *, default_parent: str = "") -> plugins_pb2.ImportRosterResponse:
        self.errors += [plugins_pb2.RosterImportError(file=e.file, row=int(e.row), message=e.message)
                        for e in batch.errors]
        for org in parents_first(list(batch.organizations)):
            self.import_organization(org, default_parent)
        self.import_people(list(batch.people), list(batch.affiliations))
        return plugins_pb2.ImportRosterResponse(organizations=self.organizations.message(),
                                                people=self.people.message(),
                                                affiliations=self.affiliations.message(),
                                                errors=listed_errors(self.errors), dry_run=self.dry_run, plugin=plugin)

    # -- membership calls ------------------------------------------------------------------------
    @staticmethod
    def call(rpc, request, timeout: float | None = None):
        """`rpc(request)`, one of membership's; a refusal raised as MembershipRefused."""
        try:
            return rpc(request, timeout=timeout)
        except grpc.RpcError as error:
            details = details_of(error)
            raise MembershipRefused(details.code, details.reason, details.message) from None

    def get(self, rpc, request):
        """The record, or None when membership has none."""
        try:
            return self.call(rpc, request)
        except MembershipRefused as refused:
            if refused.code == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    def refuse(self, counts: Counts, kind: str, record: str, message: str) -> None:
        counts.failed += 1
        self.errors.append(plugins_pb2.RosterImportError(kind=kind, record=record, message=message))

    # -- organizations ---------------------------------------------------------------------------
    def import_organization(self, org: RosterOrganization, default_parent: str) -> None:
        try:
            kind = organization_kind(org.kind)
            parent_id = org.parent_id or default_parent
            reply = self.get(self.membership.GetOrganization, membership_pb2.GetOrganizationRequest(id=org.id))
            if reply is None:
                if not self.dry_run:
                    try:
                        self.call(self.membership.CreateOrganization, membership_pb2.CreateOrganizationRequest(
                            organization_id=org.id, name=org.name, kind=kind, parent_id=parent_id, code=org.code))
                    except MembershipRefused as refused:
                        if refused.code != grpc.StatusCode.ALREADY_EXISTS or refused.reason != "DUPLICATE_ID":
                            raise
                        self.organizations.unchanged += 1  # created meanwhile: present
                        return
                self.organizations.created += 1
                return
            existing = reply.organization
            if existing.kind != kind:
                raise Refused(f"is a {to_label(membership_pb2.OrganizationKind, existing.kind)} in copnet, "
                              f"the roster says {org.kind}")
            changes = {}
            if org.name and org.name != existing.name:
                changes["name"] = org.name
            if org.code and org.code != existing.code:
                changes["code"] = org.code
            moved = bool(parent_id) and parent_id != existing.parent_id
            if not changes and not moved:
                self.organizations.unchanged += 1
                return
            if not self.dry_run:
                if changes:
                    self.call(self.membership.UpdateOrganization,
                              membership_pb2.UpdateOrganizationRequest(id=org.id, **changes))
                if moved:
                    self.call(self.membership.MoveOrganization,
                              membership_pb2.MoveOrganizationRequest(id=org.id, new_parent_id=parent_id))
            self.organizations.updated += 1
        except (Refused, MembershipRefused) as problem:
            self.refuse(self.organizations, "organization", org.id, problem.message)

    # -- people and their affiliations -----------------------------------------------------------
    def import_people(self, people: list[RosterPerson], affiliations: list[RosterAffiliation]) -> None:
        """In batches: one call reads a batch's people, one creates those missing (membership's
        batch calls: a district of 100,000 staff is 200 + 200 calls, not 200,000)."""
        wanted: dict[str, list[RosterAffiliation]] = {}
        for affiliation in affiliations:
            wanted.setdefault(affiliation.person_id, []).append(affiliation)
        listed = {person.id for person in people}
        entries = [Entry(person.id, person, wanted.get(person.id, [])) for person in people]
        entries += [Entry(person_id, None, wanted[person_id]) for person_id in sorted(set(wanted) - listed)]
        # People of one school together: each batch then names few organizations for membership to check.
        entries.sort(key=lambda entry: (entry.affiliations[0].organization_id if entry.affiliations else "",
                                        entry.person_id))
        for start in range(0, len(entries), PEOPLE_PER_CALL):
            self.import_batch(entries[start:start + PEOPLE_PER_CALL])

    def import_batch(self, entries: list[Entry]) -> None:
        try:
            reply = self.call(self.membership.BatchGetPeople,
                              membership_pb2.BatchGetPeopleRequest(ids=[entry.person_id for entry in entries]),
                              timeout=BATCH_CALL_SECONDS)
        except MembershipRefused as refused:
            for entry in entries:
                self.person_failed(entry, refused.message)
            return
        existing = {person.id: person for person in reply.people}
        missing: list[tuple[Entry, list[int], list[tuple[str, int]]]] = []
        for entry in entries:
            try:
                requested = []
                for affiliation in entry.affiliations:
                    pair = (affiliation.organization_id, position(affiliation.position))
                    if pair not in requested:
                        requested.append(pair)
                bands = sorted({grade_band(b) for b in entry.person.grade_bands}) if entry.person is not None else []
                found = existing.get(entry.person_id)
                if found is not None:
                    self.update_person(entry.person, found, bands, requested)
                elif entry.person is None:
                    raise Refused("has affiliations in the roster but is neither in its people nor in copnet")
                else:
                    missing.append((entry, bands, requested))
            except (Refused, MembershipRefused) as problem:
                self.person_failed(entry, problem.message)
        self.create_people(missing)

    def person_failed(self, entry: Entry, message: str) -> None:
        if entry.person is not None:
            self.refuse(self.people, "person", entry.person_id, message)
        self.affiliations.failed += len(entry.affiliations)
        if entry.person is None:
            self.errors.append(plugins_pb2.RosterImportError(kind="affiliation", record=entry.person_id,
                                                             message=message))

    def create_people(self, missing: list[tuple[Entry, list[int], list[tuple[str, int]]]]) -> None:
        if not missing:
            return
        if self.dry_run:
            self.people.created += len(missing)
            self.affiliations.created += sum(len(requested) for _, _, requested in missing)
            return
        request = membership_pb2.BatchCreatePeopleRequest(requests=[membership_pb2.CreatePersonRequest(
            person_id=entry.person.id, name=entry.person.name, email=entry.person.email, grade_bands=bands,
            affiliations=[membership_pb2.Affiliation(organization_id=o, position=p) for o, p in requested])
            for entry, bands, requested in missing])
        try:
            results = self.call(self.membership.BatchCreatePeople, request, timeout=BATCH_CALL_SECONDS).results
        except MembershipRefused as refused:
            for entry, _, _ in missing:
                self.person_failed(entry, refused.message)
            return
        for (entry, _, requested), result in zip(missing, results, strict=True):
            if result.created:
                self.people.created += 1
                self.affiliations.created += len(requested)
            elif result.reason == "DUPLICATE_ID":  # created meanwhile, or someone's outside the importer's reach
                self.people.unchanged += 1
                self.affiliations.unchanged += len(requested)
            else:
                self.person_failed(entry, f"membership refused ({result.reason}): {result.message}")

    def update_person(self, person: RosterPerson | None, existing: membership_pb2.Person, bands: list[int],
                      requested: list[tuple[str, int]]) -> None:
        current = [(a.organization_id, a.position) for a in existing.affiliations]
        missing = [pair for pair in requested if pair not in current]
        request = membership_pb2.UpdatePersonRequest(id=existing.id)
        changed = False
        if person is not None:
            if person.name and person.name != existing.name:
                request.name, changed = person.name, True
            if person.email and person.email.lower() != existing.email.lower():
                request.email, changed = person.email, True
            if bands and bands != sorted(set(existing.grade_bands)):
                request.set_grade_bands, changed = True, True
                request.grade_bands.extend(bands)
        if missing:
            request.set_affiliations = True
            request.affiliations.extend(membership_pb2.Affiliation(organization_id=o, position=p)
                                        for o, p in current + missing)
        if (changed or missing) and not self.dry_run:
            self.call(self.membership.UpdatePerson, request)
        if person is not None:
            if changed or missing:
                self.people.updated += 1
            else:
                self.people.unchanged += 1
        self.affiliations.created += len(missing)
        self.affiliations.unchanged += len(requested) - len(missing)


class MembershipRefused(Exception):
    def __init__(self, code: grpc.StatusCode, reason: str | None, message: str):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = f"membership refused ({reason or code.name}): {message}"


def read_batch(host: PluginHost, plugin: str, scope: Sequence[str], source, files: Mapping[str, bytes], *,
               timeout: float) -> RosterBatch:
    """The source's reading of the files, with the settings that apply to `scope` (the importing
    organization's), isolated like any plugin call: its own thread, a deadline, and a failure
    counted against the plugin there."""
    where = scope[-1] if scope else ""
    try:
        batch = host.invoke(plugin, scope, f"roster source {source.key}", lambda settings: source.read(files, settings),
                            timeout_seconds=timeout)
    except PluginUnavailable as off:
        raise FailedPrecondition(f"plugin {plugin!r} (roster source {source.key!r}) is not enabled for {where!r}: "
                                 f"{off}", reason="PLUGIN_NOT_ENABLED") from None
    except PluginCallFailed as failed:
        raise FailedPrecondition(f"plugin {plugin!r}: roster source {source.key!r} could not read the files: "
                                 f"{failed}", reason="ROSTER_SOURCE_FAILED") from None
    if not isinstance(batch, RosterBatch):
        raise FailedPrecondition(f"plugin {plugin!r}: roster source {source.key!r} returned "
                                 f"{type(batch).__name__}, not a RosterBatch", reason="ROSTER_SOURCE_FAILED")
    return batch
