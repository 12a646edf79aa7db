"""membership's gRPC API: one servicer made of one part per area."""

from __future__ import annotations

from copnet.kernel.service import ServiceContext
from copnet.membership.communities import CommunitiesApi
from copnet.membership.organizations import OrganizationsApi
from copnet.membership.people import PeopleApi
from copnet.membership.people_batch import PeopleBatchApi
from copnet.membership.programs import ProgramsApi
from copnet.membership.proposals import ProposalsApi
from copnet.membership.registrations import RegistrationsApi
from copnet.membership.teams import TeamsApi
from copnet.membership.tokens import TokensApi
from copnet.membership.v1 import membership_pb2_grpc


class MembershipServicer(OrganizationsApi, PeopleApi, PeopleBatchApi, ProgramsApi, CommunitiesApi, ProposalsApi,
                         RegistrationsApi, TeamsApi, TokensApi, membership_pb2_grpc.MembershipServiceServicer):
    def __init__(self, context: ServiceContext):
        self.ctx = context
