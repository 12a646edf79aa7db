"""cycles RPCs of ReflectionService: a community's or a team's cycles of inquiry, their frozen
snapshots, counts for everyone in scope, and the measures a data-reflection session prepares with."""

from __future__ import annotations

import json

import bson
from pymongo.errors import DuplicateKeyError

from copnet.kernel import auth, db
from copnet.kernel.enums import from_label
from copnet.kernel.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from copnet.kernel.inputs import chosen_or_new_id, optional_text, required_label
from copnet.kernel.pagination import page_of
import copnet.reflection.cycles.messages as messages
import copnet.reflection.cycles.rules as rules
import copnet.reflection.cycles.snapshots as snapshots
from copnet.reflection.cycles.members import Community, CycleMembership, Team, refused
from copnet.reflection.cycles.models import CycleSnapshot, InquiryCycle
from copnet.reflection.cycles.preparation import preparation, prompts
from copnet.reflection.measures import access as measure_access
from copnet.reflection.measures import queries
from copnet.reflection.participation import years
from copnet.reflection.v1 import cycles_pb2
from copnet.scheduling.client import SCHEDULING

CREATED = "copnet.reflection.cycle.created"
ADVANCED = "copnet.reflection.cycle.advanced"
CLOSED = "copnet.reflection.cycle.closed"
FROZEN = "copnet.reflection.snapshot.frozen"
UPDATABLE = ("title", "goal", "plan", "reflection")


def changed_meanwhile() -> FailedPrecondition:
    return FailedPrecondition("the cycle changed since it was read; read it again and retry",
                              reason="CYCLE_CHANGED")


class CyclesRpcs:
    ctx = None  # the ServiceContext, set by ReflectionServicer

    @property
    def _cycle_members(self) -> CycleMembership:
        return CycleMembership(self.ctx)

    # -- helpers ----------------------------------------------------------------------------------
    def _cycle_place(self, community_id: str, team_id: str) -> tuple[Community, Team | None]:
        members = self._cycle_members
        team = members.team(messages.required_id(team_id, "team_id")) if team_id else None
        if team is not None and community_id and team.community_id != community_id:
            raise InvalidArgument.for_field("team_id", f"is a team of another community than {community_id!r}",
                                            reason="TEAM_OF_ANOTHER_COMMUNITY")
        community_id = team.community_id if team is not None else community_id
        return members.community_facts(messages.required_id(community_id, "community_id")), team

    def _cycle_to_work_on(self, cycle_id: str, action: str, field: str = "id"):
        auth.require_authenticated(action)
        cycle = InquiryCycle.objects(id=messages.required_id(cycle_id, field)).first()
        if cycle is None:
            raise NotFound(f"no inquiry cycle {cycle_id!r}", reason="UNKNOWN_CYCLE", metadata={"field": field})
        community, team = self._cycle_place(cycle.community_id, cycle.team_id)
        self._cycle_members.require_worker(community, team, action)
        return cycle, community, team

    def _cycle_goal(self, message: cycles_pb2.CycleGoal, community: Community) -> dict:
        goal = messages.goal(message)
        organization = goal["filter"]["organization_id"]
        if community.host_organization_id not in self._cycle_members.organization_scope(
                organization, "goal.filter.organization_id"):
            raise InvalidArgument.for_field("goal.filter.organization_id", "must be the community's host "
                                            "organization or one below it", reason="ORGANIZATION_OUT_OF_COMMUNITY")
        goal["baseline"] = snapshots.baseline(goal)
        goal["baseline_time"] = db.utcnow()
        return goal

    def _cycle_plan(self, message: cycles_pb2.CyclePlan, cycle: InquiryCycle, community: Community,
                    team: Team | None) -> dict:
        known = {a["id"]: a for a in (cycle.plan or {}).get("actions", [])}
        plan = messages.plan(message, known)
        members = self._cycle_members
        owners = {a["owner_person_id"] for a in plan["actions"] if a["owner_person_id"]}
        people = members.people_of(community, team) if owners else frozenset()
        checked: set[str] = set()
        for n, action in enumerate(plan["actions"]):
            if action["owner_person_id"] and action["owner_person_id"] not in people:
                raise InvalidArgument.for_field(f"plan.actions[{n}].owner_person_id", "is not a member or "
                                                "facilitator of the cycle's community (or team)",
                                                reason="OWNER_NOT_A_MEMBER")
            for k, session_id in enumerate(action["session_ids"]):
                if session_id in checked:
                    continue
                field = f"plan.actions[{n}].session_ids[{k}]"
                if members.session(session_id, field).community_id != community.id:
                    raise InvalidArgument.for_field(field, "is a session of another community",
                                                    reason="SESSION_OF_ANOTHER_COMMUNITY")
                checked.add(session_id)
        return plan

    def _cycle_reply(self, cycle: InquiryCycle) -> cycles_pb2.InquiryCycle:
        snapshot = CycleSnapshot.objects(id=cycle.snapshot_id).first() if cycle.snapshot_id else None
        return messages.cycle_message(cycle, snapshot)

    def _new_cycle(self, cycle_id: str, community: Community, team: Team | None, title: str, goal: dict | None,
                   author: str, previous_cycle_id: str = "") -> InquiryCycle:
        now = db.utcnow()
        program_year = (self._cycle_members.program_year(community.program_id) if community.program_id else "") \
            or years.containing(now)
        return InquiryCycle(id=cycle_id, community_id=community.id, team_id=team.id if team else "", title=title,
                            stage=rules.SET_GOALS, program_year=program_year, scope=list(community.scope),
                            goal=goal or {}, plan={"actions": []}, evidence=[], reflection={},
                            previous_cycle_id=previous_cycle_id, created_by=author, create_time=now, update_time=now)

    def _created_event(self, cycle: InquiryCycle):
        return self.ctx.event(CREATED, cycle.id, cycles_pb2.InquiryCycleCreated(
            cycle_id=cycle.id, community_id=cycle.community_id, team_id=cycle.team_id,
            program_year=cycle.program_year, previous_cycle_id=cycle.previous_cycle_id), scope=cycle.scope)

    # -- RPCs -------------------------------------------------------------------------------------
    def CreateInquiryCycle(self, request: cycles_pb2.CreateInquiryCycleRequest, _context):
        identity = auth.require_authenticated("starting an inquiry cycle")
        cycle_id = chosen_or_new_id(request.cycle_id, "cycle_id")
        title = messages.title(request.title)
        if not request.community_id and not request.team_id:
            raise InvalidArgument.for_field("community_id", "is required (or a team_id)")
        community, team = self._cycle_place(request.community_id, request.team_id)
        self._cycle_members.require_worker(community, team, "starting an inquiry cycle")
        goal = self._cycle_goal(request.goal, community) if request.HasField("goal") else None
        cycle = self._new_cycle(cycle_id, community, team, title, goal, identity.person_id)

        def work(uow: db.UnitOfWork) -> None:
            uow.insert(cycle)
            uow.emit(self._created_event(cycle))

        try:
            self.ctx.transaction(work)
        except DuplicateKeyError:
            raise AlreadyExists(f"inquiry cycle {cycle_id!r} exists", reason="CYCLE_EXISTS") from None
        return cycles_pb2.CreateInquiryCycleResponse(cycle=self._cycle_reply(cycle))

    def GetInquiryCycle(self, request: cycles_pb2.GetInquiryCycleRequest, _context):
        cycle, _, _ = self._cycle_to_work_on(request.id, "reading an inquiry cycle")
        return cycles_pb2.GetInquiryCycleResponse(cycle=self._cycle_reply(cycle))

    def ListInquiryCycles(self, request: cycles_pb2.ListInquiryCyclesRequest, _context):
        auth.require_authenticated("listing inquiry cycles")
        if not request.community_id and not request.team_id:
            raise InvalidArgument.for_field("community_id", "give a community_id or a team_id",
                                            reason="ONE_OF_REQUIRED")
        community, team = self._cycle_place(request.community_id, request.team_id)
        self._cycle_members.require_worker(community, team, "listing inquiry cycles")
        # A community's list holds its own cycles; each team's are listed by team (their readers differ).
        query = {"team_id": team.id} if team is not None else {"community_id": community.id, "team_id": ""}
        found, token = page_of(InquiryCycle, query, request.page_size, request.page_token)
        snapshot_ids = [c.snapshot_id for c in found if c.snapshot_id]
        frozen = {s.id: s for s in CycleSnapshot.objects(id__in=snapshot_ids)} if snapshot_ids else {}
        return cycles_pb2.ListInquiryCyclesResponse(
            cycles=[messages.cycle_message(c, frozen.get(c.snapshot_id)) for c in found], next_page_token=token)

    def UpdateInquiryCycle(self, request: cycles_pb2.UpdateInquiryCycleRequest, _context):
        paths = list(dict.fromkeys(request.update_mask.paths))
        if not paths:
            raise InvalidArgument.for_field("update_mask", f"name what to change ({', '.join(UPDATABLE)})")
        for path in paths:
            if path not in UPDATABLE:
                raise InvalidArgument.for_field("update_mask", f"{path!r} cannot be changed (one of "
                                                f"{', '.join(UPDATABLE)})", reason="UNKNOWN_PATH")
        cycle, community, team = self._cycle_to_work_on(request.id, "changing an inquiry cycle")
        for path in paths:
            rules.check_editable(cycle.stage, path)
        changes: dict = {}
        if "title" in paths:
            changes["title"] = messages.title(request.title)
        if "goal" in paths:
            changes["goal"] = self._cycle_goal(request.goal, community) if request.HasField("goal") else {}
        if "plan" in paths:
            changes["plan"] = self._cycle_plan(request.plan, cycle, community, team)
        if "reflection" in paths:
            changes["reflection"] = messages.reflection(request.reflection)
        changes["update_time"] = db.utcnow()

        def work(uow: db.UnitOfWork) -> None:
            done = uow.update_one(InquiryCycle, {"_id": cycle.id, "revision": cycle.revision},
                                  {"$set": changes, "$inc": {"revision": 1}})
            if done.matched_count == 0:
                raise changed_meanwhile()

        self.ctx.transaction(work)
        return cycles_pb2.UpdateInquiryCycleResponse(cycle=self._cycle_reply(InquiryCycle.objects.get(id=cycle.id)))

    def AddCycleEvidence(self, request: cycles_pb2.AddCycleEvidenceRequest, _context):
        cycle, _, _ = self._cycle_to_work_on(request.cycle_id, "adding evidence to an inquiry cycle", "cycle_id")
        identity = auth.current_identity()
        rules.check_evidence_stage(cycle.stage)
        item = messages.evidence(request.evidence, identity.person_id, db.utcnow())
        # One more only while the cycle still acts or assesses and holds fewer than the bound.
        guard = {"_id": cycle.id, "stage": {"$in": list(rules.EVIDENCE_STAGES)},
                 f"evidence.{rules.MAX_EVIDENCE - 1}": {"$exists": False}}

        def work(uow: db.UnitOfWork) -> None:
            done = uow.update_one(InquiryCycle, guard, {"$push": {"evidence": item}, "$inc": {"revision": 1},
                                                        "$set": {"update_time": item["create_time"]}})
            if done.matched_count == 0:
                latest = uow.find_one(InquiryCycle, {"_id": cycle.id})
                if latest is not None and latest.stage in rules.EVIDENCE_STAGES:
                    raise FailedPrecondition(f"a cycle keeps at most {rules.MAX_EVIDENCE} pieces of evidence",
                                             reason="TOO_MUCH_EVIDENCE", metadata={"field": "evidence"})
                raise changed_meanwhile()

        self.ctx.transaction(work)
        return cycles_pb2.AddCycleEvidenceResponse(evidence=messages.evidence_message(item),
                                                   cycle=self._cycle_reply(InquiryCycle.objects.get(id=cycle.id)))

    def AdvanceInquiryCycle(self, request: cycles_pb2.AdvanceInquiryCycleRequest, _context):
        to_stage = required_label(cycles_pb2.CycleStage, request.to_stage, "to_stage")
        reason = optional_text(request.abandon_reason, "abandon_reason", rules.ABANDON_REASON_MAX)
        if reason and to_stage != rules.ABANDONED:
            raise InvalidArgument.for_field("abandon_reason", "is for abandoning a cycle only")
        if request.start_next_cycle and to_stage != rules.CLOSED:
            raise InvalidArgument.for_field("start_next_cycle", "is for closing a cycle only")
        cycle, community, team = self._cycle_to_work_on(request.id, "advancing an inquiry cycle")
        rules.check_advance(cycle.to_mongo().to_dict(), to_stage)
        from_stage, now = cycle.stage, db.utcnow()
        changes: dict = {"stage": to_stage, "update_time": now}
        snapshot = None
        if to_stage == rules.ASSESS:
            frozen = snapshots.freeze(cycle.goal)
            snapshot = CycleSnapshot(id=f"{cycle.id}-snapshot", cycle_id=cycle.id, freeze_time=now,
                                     generation=frozen.generation, min_cell=frozen.min_cell, cells=frozen.cells,
                                     assessed=frozen.assessed, outcome=frozen.outcome)
            changes.update(snapshot_id=snapshot.id, outcome=frozen.outcome)
        if to_stage == rules.ABANDONED:
            changes["abandon_reason"] = reason
        successor = None
        if request.start_next_cycle:
            successor = self._successor(cycle, community, team)
            changes["next_cycle_id"] = successor.id

        def work(uow: db.UnitOfWork) -> None:
            done = uow.update_one(InquiryCycle, {"_id": cycle.id, "stage": from_stage, "revision": cycle.revision},
                                  {"$set": changes, "$inc": {"revision": 1}})
            if done.matched_count == 0:
                raise changed_meanwhile()
            uow.emit(self.ctx.event(ADVANCED, cycle.id, cycles_pb2.InquiryCycleAdvanced(
                cycle_id=cycle.id, community_id=cycle.community_id,
                from_stage=from_label(cycles_pb2.CycleStage, from_stage),
                to_stage=from_label(cycles_pb2.CycleStage, to_stage)), scope=cycle.scope))
            if snapshot is not None:
                uow.insert(snapshot)
                uow.emit(self._frozen_event(cycle, snapshot))
            if to_stage in rules.FINAL_STAGES:
                uow.emit(self.ctx.event(CLOSED, cycle.id, cycles_pb2.InquiryCycleClosed(
                    cycle_id=cycle.id, community_id=cycle.community_id,
                    stage=from_label(cycles_pb2.CycleStage, to_stage),
                    outcome=from_label(cycles_pb2.GoalOutcome, cycle.outcome) if cycle.outcome else 0,
                    next_cycle_id=successor.id if successor else ""), scope=cycle.scope))
            if successor is not None:
                uow.insert(successor)
                uow.emit(self._created_event(successor))

        self.ctx.transaction(work)
        return cycles_pb2.AdvanceInquiryCycleResponse(
            cycle=self._cycle_reply(InquiryCycle.objects.get(id=cycle.id)),
            next_cycle=self._cycle_reply(successor) if successor is not None else None)

    def _successor(self, cycle: InquiryCycle, community: Community, team: Team | None) -> InquiryCycle:
        """The next cycle, its goal carried forward: the same measure, filter and target, with the
        cell just assessed as its baseline (read again now)."""
        goal = None
        if cycle.goal:
            goal = dict(cycle.goal, baseline_school_year=cycle.goal["filter"]["school_year"],
                        baseline_window=cycle.goal["filter"]["window"])
            goal["baseline"] = snapshots.baseline(goal)
            goal["baseline_time"] = db.utcnow()
        identity = auth.current_identity()
        return self._new_cycle(str(bson.ObjectId()), community, team, cycle.title, goal,
                               identity.person_id if identity else "", previous_cycle_id=cycle.id)

    def _frozen_event(self, cycle: InquiryCycle, snapshot: CycleSnapshot):
        # Published, suppressed figures and ids only: this payload may leave the region.
        goal = cycle.goal
        payload = cycles_pb2.SnapshotFrozen(
            snapshot_id=snapshot.id, cycle_id=cycle.id, community_id=cycle.community_id, measure=goal["measure"],
            filter=cycles_pb2.GoalMeasureFilter(**goal["filter"]), generation=snapshot.generation,
            min_cell=snapshot.min_cell, cells=[snapshots.cell_message(c) for c in snapshot.cells],
            outcome=from_label(cycles_pb2.GoalOutcome, snapshot.outcome))
        payload.freeze_time.FromDatetime(snapshot.freeze_time)
        return self.ctx.event(FROZEN, snapshot.id, payload, scope=cycle.scope)

    def GetCycleCounts(self, request: cycles_pb2.GetCycleCountsRequest, _context):
        organization = queries.organization_id(request.organization_id)
        program_year = years.parse(request.program_year) if request.program_year else ""
        scope = self._cycle_members.organization_scope(organization)
        measure_access.require_reader(scope, "reading counts of inquiry cycles")
        match = {"scope": organization, **({"program_year": program_year} if program_year else {})}
        grouped = InquiryCycle._get_collection().aggregate([
            {"$match": match},
            {"$group": {"_id": {"stage": "$stage", "outcome": "$outcome"}, "n": {"$sum": 1}}}])
        counts = cycles_pb2.CycleCounts(organization_id=organization, program_year=program_year)
        for row in grouped:
            stage, outcome, n = row["_id"].get("stage"), row["_id"].get("outcome") or "", int(row["n"])
            counts.cycles += n
            if stage in rules.ORDER or stage == rules.ABANDONED:
                setattr(counts, stage, getattr(counts, stage) + n)
            if outcome in (rules.MET, rules.NOT_MET, rules.CANNOT_TELL):
                field = {rules.MET: "goals_met", rules.NOT_MET: "goals_not_met",
                         rules.CANNOT_TELL: "goals_cannot_tell"}[outcome]
                setattr(counts, field, getattr(counts, field) + n)
        counts.communities = len(InquiryCycle._get_collection().distinct("community_id", match))
        return cycles_pb2.GetCycleCountsResponse(counts=counts)

    def GetSessionDataPreparation(self, request: cycles_pb2.GetSessionDataPreparationRequest, _context):
        auth.require_authenticated("preparing a data-reflection session")
        members = self._cycle_members
        session = members.session_to_read(messages.required_id(request.session_id, "session_id"))
        community = members.community_facts(session.community_id, "session_id")
        identity = auth.current_identity()
        # The community's measures are its host's aggregates: anyone in scope reads them, and so do
        # its members and the session's facilitators wherever their roles are held.
        if not (in_scope(community.scope) or identity.person_id in session.facilitator_ids
                or members.may_work_on(community, None)):
            raise refused("preparing this data-reflection session")
        try:
            fields = json.loads(session.fields_json or "{}")
        except ValueError:
            fields = {}
        stub = self.ctx.clients.stub(SCHEDULING, token=self.ctx.service_token())
        return preparation(session, community, fields, prompts(stub, community.id))


def in_scope(scope) -> bool:
    try:
        measure_access.require_reader(scope, "reading the community's measures")
    except (PermissionDenied, Unauthenticated):
        return False
    return True
