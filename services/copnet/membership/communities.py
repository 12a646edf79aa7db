"""Communities of practice: what they are, who hosts and facilitates them, their seats, sign-up
window and eligibility, and their status from draft to completed."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from copnet.events.v1 import events_pb2
from copnet.kernel import auth, db
from copnet.kernel.enums import from_label
from copnet.kernel.errors import AlreadyExists, InvalidArgument, NotFound
from copnet.kernel.pagination import page_of
from copnet.kernel.service import ServiceContext
from copnet.kernel.timestamps import timestamp
from copnet.membership.access import COMMUNITY_MANAGERS
from copnet.membership.models import Community, Organization
from copnet.membership.organizations import county_office_of
from copnet.membership.rules import chosen_or_new_id, required_label, required_text
from copnet.membership.v1 import membership_pb2 as pb


def community_message(community: Community) -> pb.Community:
    return pb.Community(id=community.id, name=community.name,
                        kind=from_label(pb.CommunityKind, community.kind),
                        description=community.description, host_organization_id=community.host_organization_id,
                        county_office_id=community.county_office_id, create_time=timestamp(community.created_at))


class CommunitiesApi:
    ctx: ServiceContext

    # -- communities ---------------------------------------------------------------------------
    def CreateCommunity(self, request: pb.CreateCommunityRequest, _context) -> pb.CreateCommunityResponse:
        auth.require_authenticated("creating a community")
        name = required_text(request.name, "name")
        kind = required_label(pb.CommunityKind, request.kind, "kind")
        description = request.description.strip()
        if len(description) > 5000:
            raise InvalidArgument.for_field("description", "must be at most 5000 characters")
        community_id = chosen_or_new_id(request.community_id, "community_id")
        if not request.host_organization_id:
            raise InvalidArgument.for_field("host_organization_id", "is required")
        host = Organization.objects(id=request.host_organization_id).first()
        if host is None:
            raise InvalidArgument.for_field("host_organization_id",
                                            f"no organization {request.host_organization_id!r}",
                                            reason="UNKNOWN_ORGANIZATION")
        auth.require(COMMUNITY_MANAGERS, host.scope, "creating a community")
        county_office_id = county_office_of(host)
        community = Community(id=community_id, name=name, kind=kind, description=description,
                              host_organization_id=host.id, county_office_id=county_office_id, scope=host.scope,
                              created_at=db.utcnow())
        payload = events_pb2.CommunityCreated(community_id=community.id, name=name, kind=kind,
                                              host_organization_id=host.id, county_office_id=county_office_id)

        def work(uow: db.UnitOfWork) -> None:
            uow.insert(community)
            uow.emit(self.ctx.event("copnet.membership.community.created", community.id, payload))

        try:
            self.ctx.transaction(work)
        except DuplicateKeyError:
            raise AlreadyExists(f"community {community_id!r} already exists", reason="DUPLICATE_ID",
                                metadata={"field": "community_id"}) from None
        return pb.CreateCommunityResponse(community=community_message(community))

    def GetCommunity(self, request: pb.GetCommunityRequest, _context) -> pb.GetCommunityResponse:
        community = Community.objects(id=request.id).first() if request.id else None
        if community is None:
            raise NotFound(f"no community {request.id!r}")
        return pb.GetCommunityResponse(community=community_message(community))

    def ListCommunities(self, request: pb.ListCommunitiesRequest, _context) -> pb.ListCommunitiesResponse:
        query: dict = {}
        if request.host_organization_id:
            query["host_organization_id"] = request.host_organization_id
        found, token = page_of(Community, query, request.page_size, request.page_token)
        return pb.ListCommunitiesResponse(communities=[community_message(c) for c in found],
                                          next_page_token=token)
