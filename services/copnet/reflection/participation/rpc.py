"""participation RPCs of ReflectionService: GetParticipation and GetRetention.

Readers: anyone holding a role over the organization's scope (its ancestry plus itself), platform
admins and services; for a community, anyone over its host, and its facilitators and confirmed
participants. Everyone sees the same suppressed figures (a state coordinator included).
"""

from __future__ import annotations

from copnet.kernel import auth
from copnet.kernel.errors import InvalidArgument
from copnet.reflection.measures.access import READERS, require_reader
import copnet.reflection.participation.convert as convert
import copnet.reflection.participation.reads as reads
import copnet.reflection.participation.retention as retention
import copnet.reflection.participation.retention_reads as retention_reads
import copnet.reflection.participation.years as years
from copnet.reflection.participation.directory import Directory, level_of
from copnet.reflection.v1 import participation_pb2

ID_MAX = 128
MAX_RETENTION_YEARS = 10


def one_scope(organization_id: str, community_id: str) -> None:
    if bool(organization_id) == bool(community_id):
        raise InvalidArgument.for_field("organization_id", "exactly one of organization_id and community_id is required",
                                        reason="ONE_SCOPE_REQUIRED")
    for field, value in (("organization_id", organization_id), ("community_id", community_id)):
        if len(value) > ID_MAX:
            raise InvalidArgument.for_field(field, f"must be at most {ID_MAX} characters", reason="TOO_LONG")


class ParticipationRpcs:
    ctx = None  # the ServiceContext, set by ReflectionServicer

    @property
    def _participation_directory(self) -> Directory:
        return Directory(self.ctx)

    def _organization_reader(self, organization_id: str, action: str) -> str:
        """The organization's level, once the caller may read it."""
        organization = self._participation_directory.fresh_organization(organization_id)
        require_reader([*organization.ancestor_ids, organization.id], action)
        return level_of(organization.kind)

    def _community_reader(self, community_id: str, action: str) -> None:
        """Anyone over the host, the community's facilitators, and its participants as membership
        has them now (asked only when nothing else lets the caller in)."""
        directory = self._participation_directory
        community = directory.community(community_id)
        host = directory.fresh_organization(community.host_organization_id, "community_id")
        scope = [*host.ancestor_ids, host.id]
        identity = auth.current_identity()
        if identity is not None and not auth.is_service(identity) and identity.person_id \
                and identity.person_id not in community.facilitator_ids \
                and not identity.may(set(READERS), scope) \
                and directory.holds_confirmed_place(identity.person_id, community_id):
            return
        require_reader(scope, action, also=community.facilitator_ids)

    def GetParticipation(self, request: participation_pb2.GetParticipationRequest, _context):
        one_scope(request.organization_id, request.community_id)
        program_year = years.parse(request.program_year) if request.program_year else ""
        min_cell = self.ctx.settings.suppression_min_cell
        if request.community_id:
            self._community_reader(request.community_id, "reading a community's participation")
            known = reads.years_of(request.community_id)
            year = program_year or (known[0] if known else "")
            found = reads.community(request.community_id, year, min_cell) if year else None
            return participation_pb2.GetParticipationResponse(
                figures=convert.figures(found or reads.zero(request.community_id, reads.COMMUNITY, year)),
                program_years=known, min_cell=min_cell)
        level = self._organization_reader(request.organization_id, "reading an organization's participation")
        known = reads.years_of(request.organization_id)
        year = program_year or (known[0] if known else "")
        if not year:
            return participation_pb2.GetParticipationResponse(
                figures=convert.figures(reads.zero(request.organization_id, level, "")), min_cell=min_cell)
        rollups, figures = reads.organization_tree(year, min_cell)
        own = figures.get(request.organization_id) or reads.zero(request.organization_id, level, year)
        children = reads.children(rollups, figures, request.organization_id) if request.include_children else []
        return participation_pb2.GetParticipationResponse(
            figures=convert.figures(own), children=[convert.figures(c) for c in children], program_years=known,
            min_cell=min_cell)

    def GetRetention(self, request: participation_pb2.GetRetentionRequest, _context):
        one_scope(request.organization_id, request.community_id)
        program_year = years.parse(request.program_year) if request.program_year else ""
        min_cell = self.ctx.settings.suppression_min_cell
        if request.community_id:
            self._community_reader(request.community_id, "reading a community's retention")
            scope = {"community_id": request.community_id}
            scope_id, level = request.community_id, reads.COMMUNITY
        else:
            level = self._organization_reader(request.organization_id, "reading an organization's retention")
            scope = {"organization_id": request.organization_id}
            scope_id = request.organization_id
        wanted = [program_year] if program_year else retention_reads.years_of(**scope)[:MAX_RETENTION_YEARS]
        found = []
        for year in wanted:
            facts = retention_reads.participants(year, **scope)
            own, children = retention_reads.tallies(facts, scope_id)
            if level == reads.COMMUNITY:
                children = {}
            found.append(convert.retention(retention.figures(scope_id, level, year, own, children, min_cell)))
        return participation_pb2.GetRetentionResponse(years=found, min_cell=min_cell)
