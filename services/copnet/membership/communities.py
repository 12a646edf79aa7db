"""Communities of practice: creating, reading, updating them and changing their status from draft
to completed (the rules they follow: community_rules.py)."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from copnet.kernel import db
from copnet.kernel.errors import FailedPrecondition, PermissionDenied
from copnet.kernel.inputs import chosen_or_new_id, labels, optional_text, required_label, required_text
from copnet.kernel.pagination import page_of
from copnet.kernel.service import ServiceContext
from copnet.membership import access, events, lookups, seats
from copnet.membership.access import COMMUNITY_MANAGERS
from copnet.membership.community_rules import (
    FACILITATOR_TRANSITIONS,
    claim_window_write,
    join_program,
    missing_to_open,
    new_community,
    program_hosting,
    status_transition_error,
    valid_capacity,
    valid_eligibility,
    valid_facilitators,
    valid_signup_window,
    valid_team_composition,
)
from copnet.membership.messages import community_message, registration_message
from copnet.membership.models import Community, SignupWindow
from copnet.membership.v1 import membership_pb2


class CommunitiesApi:
    ctx: ServiceContext

    # -- communities ---------------------------------------------------------------------------
    def CreateCommunity(
        self, request: membership_pb2.CreateCommunityRequest, _context
    ) -> membership_pb2.CreateCommunityResponse:
        access.caller("creating a community")
        name = required_text(request.name, "name")
        kind = required_label(membership_pb2.CommunityKind, request.kind, "kind")
        description = optional_text(request.description, "description", 5000)
        focus = optional_text(request.focus, "focus", 500)
        community_id = chosen_or_new_id(request.community_id, "community_id")
        grade_bands = labels(membership_pb2.GradeBand, request.grade_bands, "grade_bands")
        capacity = valid_capacity(request.capacity)
        window = valid_signup_window(request.signup_window) if request.HasField("signup_window") else None
        team_composition = valid_team_composition(request.team_composition, kind)
        host = lookups.referenced_organization(request.host_organization_id, "host_organization_id")
        identity = access.require(COMMUNITY_MANAGERS, host.scope, "creating a community")
        program = program_hosting(request.program_id, host) if request.program_id else None
        facilitator_ids = valid_facilitators(request.facilitator_ids)
        eligibility = valid_eligibility(request.eligibility)
        community = new_community(
            community_id,
            host,
            name=name,
            kind=kind,
            description=description,
            focus=focus,
            program_id=program.id if program else "",
            grade_bands=grade_bands,
            facilitator_ids=facilitator_ids,
            capacity=capacity,
            signup_window=window,
            eligibility=eligibility,
            team_composition=team_composition,
        )

        def work(uow: db.UnitOfWork) -> None:
            if community.program_id:
                join_program(uow, community, window)
            uow.insert(community)
            uow.emit(events.community_created(self.ctx, community, identity.person_id))

        try:
            self.ctx.transaction(work)
        except DuplicateKeyError:
            raise lookups.duplicate_id(Community, community_id, "community_id") from None
        return membership_pb2.CreateCommunityResponse(community=community_message(community))

    def GetCommunity(
        self, request: membership_pb2.GetCommunityRequest, _context
    ) -> membership_pb2.GetCommunityResponse:
        return membership_pb2.GetCommunityResponse(community=community_message(lookups.existing(Community, request.id)))

    def ListCommunities(
        self, request: membership_pb2.ListCommunitiesRequest, _context
    ) -> membership_pb2.ListCommunitiesResponse:
        query: dict = {}
        for field in ("host_organization_id", "program_id", "region_id"):
            if getattr(request, field):
                query[field] = getattr(request, field)
        if request.facilitator_id:
            query["facilitator_ids"] = request.facilitator_id
        if request.status:
            query["status"] = required_label(membership_pb2.CommunityStatus, request.status, "status")
        if request.kind:
            query["kind"] = required_label(membership_pb2.CommunityKind, request.kind, "kind")
        found, token = page_of(Community, query, request.page_size, request.page_token)
        return membership_pb2.ListCommunitiesResponse(
            communities=[community_message(c) for c in found], next_page_token=token
        )

    def UpdateCommunity(
        self, request: membership_pb2.UpdateCommunityRequest, _context
    ) -> membership_pb2.UpdateCommunityResponse:
        identity, community = access.managed_document(COMMUNITY_MANAGERS, Community, request.id, "updating a community")
        changes = self._community_changes(request, community.kind)
        if not changes:
            return membership_pb2.UpdateCommunityResponse(community=community_message(community))
        requested_window = SignupWindow._from_son(changes["signup_window"]) if "signup_window" in changes else None

        def work(uow: db.UnitOfWork):
            current = lookups.reread(uow, Community, community.id)
            if current.status == "completed":
                raise FailedPrecondition(
                    f"community {current.id!r} is completed and can no longer change", reason="COMMUNITY_COMPLETED"
                )
            if requested_window is not None and current.program_id:
                claim_window_write(uow, current.program_id, requested_window)
            capacity = changes.get("capacity", current.capacity)
            if capacity < current.confirmed_count:
                raise FailedPrecondition(
                    f"capacity {capacity} is below the {current.confirmed_count} confirmed registrations",
                    reason="CAPACITY_BELOW_CONFIRMED",
                )
            uow.update_one(Community, {"_id": current.id}, {"$set": {**changes, "updated_at": db.utcnow()}})
            # Promotion reads the capacity just written, in this same transaction.
            promoted = seats.promote_from_waitlist(uow, current.id) if capacity > current.capacity else []
            uow.emit_many(events.promotions(self.ctx, promoted, identity.person_id, current.scope))
            updated = lookups.reread(uow, Community, current.id)
            uow.emit(events.community_changed(self.ctx, "updated", updated, identity.person_id))
            return updated, promoted

        updated, promoted = seats.ledger_transaction(self.ctx, community.id, work)
        return membership_pb2.UpdateCommunityResponse(
            community=community_message(updated), promoted=[registration_message(r) for r in promoted]
        )

    def ChangeCommunityStatus(
        self, request: membership_pb2.ChangeCommunityStatusRequest, _context
    ) -> membership_pb2.ChangeCommunityStatusResponse:
        identity = access.caller("changing a community's status")
        community = lookups.existing(Community, request.id)
        target = required_label(membership_pb2.CommunityStatus, request.status, "status")
        self._require_status_changer(identity, community, target)

        def work(uow: db.UnitOfWork) -> Community:
            current = lookups.reread(uow, Community, community.id)
            error = status_transition_error(current.status, target)
            if error is not None:
                raise error
            if target == "open" and missing_to_open(current):
                missing = missing_to_open(current)
                raise FailedPrecondition(
                    f"a community opens for sign-up only with a capacity and a sign-up "
                    f"window; missing: {', '.join(missing)}",
                    reason="COMMUNITY_NOT_READY",
                    metadata={"missing": ",".join(missing)},
                )
            uow.update_one(
                Community,
                {"_id": current.id, "status": current.status},
                {"$set": {"status": target, "updated_at": db.utcnow()}},
            )
            updated = lookups.reread(uow, Community, current.id)
            uow.emit(
                events.community_changed(
                    self.ctx, "status_changed", updated, identity.person_id, previous_status=current.status
                )
            )
            return updated

        return membership_pb2.ChangeCommunityStatusResponse(community=community_message(self.ctx.transaction(work)))

    # -- helpers -------------------------------------------------------------------------------
    @staticmethod
    def _require_status_changer(identity, community: Community, target: str) -> None:
        if access.may(COMMUNITY_MANAGERS, community.scope):
            return
        if identity.person_id in community.facilitator_ids and (community.status, target) in FACILITATOR_TRANSITIONS:
            return
        if identity.person_id in community.facilitator_ids:
            raise PermissionDenied(
                "a facilitator may only complete an active community; other status changes need a community manager",
                reason="OUT_OF_SCOPE",
            )
        access.require(COMMUNITY_MANAGERS, community.scope, "changing a community's status")

    @staticmethod
    def _community_changes(request: membership_pb2.UpdateCommunityRequest, kind: str) -> dict:
        """The validated fields the request sets, as MongoDB values."""
        changes: dict = {}
        if request.HasField("name"):
            changes["name"] = required_text(request.name, "name")
        if request.HasField("description"):
            changes["description"] = optional_text(request.description, "description", 5000)
        if request.HasField("focus"):
            changes["focus"] = optional_text(request.focus, "focus", 500)
        if request.HasField("capacity"):
            changes["capacity"] = valid_capacity(request.capacity, allow_unset=False)
        if request.HasField("signup_window"):
            changes["signup_window"] = valid_signup_window(request.signup_window).to_mongo()
        if request.HasField("eligibility"):
            changes["eligibility"] = valid_eligibility(request.eligibility).to_mongo()
        if request.set_grade_bands:
            changes["grade_bands"] = labels(membership_pb2.GradeBand, request.grade_bands, "grade_bands")
        if request.set_facilitator_ids:
            changes["facilitator_ids"] = valid_facilitators(request.facilitator_ids)
        if request.set_team_composition:
            changes["team_composition"] = [
                slot.to_mongo() for slot in valid_team_composition(request.team_composition, kind)
            ]
        return changes
