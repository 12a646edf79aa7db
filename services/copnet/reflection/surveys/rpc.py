"""surveys RPCs of ReflectionService: instruments, administrations, anonymous responses, reports."""

from __future__ import annotations

import dataclasses

from pymongo.errors import DuplicateKeyError

from copnet.kernel import auth, db
from copnet.kernel.errors import AlreadyExists, FailedPrecondition, InvalidArgument, PermissionDenied
from copnet.kernel.inputs import chosen_or_new_id, optional_label, required_instant, required_label
from copnet.kernel.pagination import page_of
from copnet.membership.v1 import membership_pb2
import copnet.reflection.surveys.access as access
import copnet.reflection.surveys.instruments as instruments
import copnet.reflection.surveys.records as records
import copnet.reflection.surveys.reports as reports
import copnet.reflection.surveys.responses as responses
from copnet.reflection.surveys.membership import Membership
from copnet.reflection.surveys.models import SurveyAdministration, SurveyInstrumentVersion
from copnet.reflection.v1 import surveys_pb2

ADMINISTRATION_OPENED = "copnet.reflection.survey.administration_opened"
ADMINISTRATION_CLOSED = "copnet.reflection.survey.administration_closed"
OWNER_KINDS = (membership_pb2.ORGANIZATION_KIND_REGION, membership_pb2.ORGANIZATION_KIND_STATE)
ID_MAX = 63


def lookup_id(value: str, field: str) -> str:
    """An id to look up: required; any other id simply names nothing (NOT_FOUND)."""
    if not value:
        raise InvalidArgument.for_field(field, "is required")
    return value


def required_id(value: str, field: str) -> str:
    if not value:
        raise InvalidArgument.for_field(field, "is required")
    if len(value) > ID_MAX:
        raise InvalidArgument.for_field(field, f"must be at most {ID_MAX} characters", reason="TOO_LONG")
    return value


class SurveysRpcs:
    ctx = None  # the ServiceContext, set by ReflectionServicer

    @property
    def _survey_membership(self) -> Membership:
        return Membership(self.ctx)

    # -- instruments ---------------------------------------------------------------------------
    def ListSurveyInstruments(self, request: surveys_pb2.ListSurveyInstrumentsRequest, _context):
        records.ensure_builtin()
        query = {"owner_organization_id": request.owner_organization_id} if request.owner_organization_id else {}
        found, token = page_of(SurveyInstrumentVersion, query, request.page_size, request.page_token, key="key")
        return surveys_pb2.ListSurveyInstrumentsResponse(instruments=[records.instrument_message(r) for r in found],
                                                         next_page_token=token)

    def GetSurveyInstrument(self, request: surveys_pb2.GetSurveyInstrumentRequest, _context):
        if request.version < 0:
            raise InvalidArgument.for_field("version", "must not be negative")
        found = records.instrument_version(lookup_id(request.id, "id"), request.version)
        return surveys_pb2.GetSurveyInstrumentResponse(instrument=records.instrument_message(found))

    def CreateSurveyInstrument(self, request: surveys_pb2.CreateSurveyInstrumentRequest, _context):
        auth.require_authenticated("defining a survey instrument")
        instrument_id = chosen_or_new_id(request.instrument_id, "instrument_id")
        owner_id = required_id(request.owner_organization_id, "owner_organization_id")
        asked = instruments.defined(
            instrument_id, 1, owner_id, name=request.name, description=request.description, source=request.source,
            scale_points=request.scale_points, scale_labels=list(request.scale_labels),
            # One past the bound is enough for the bound's error: a huge list costs no more.
            subscales=[instruments.Subscale(s.code, s.name, s.description)
                       for s in request.subscales[:instruments.MAX_SUBSCALES + 1]],
            items=[instruments.Item(i.id, i.text, i.subscale, i.reverse_scored)
                   for i in request.items[:instruments.MAX_ITEMS + 1]])
        owner = self._survey_membership.organization(owner_id, "owner_organization_id")
        if owner.kind not in OWNER_KINDS:
            raise InvalidArgument.for_field("owner_organization_id", "must be a region or the state",
                                            reason="OWNER_NOT_REGION")
        auth.require(access.INSTRUMENT_AUTHORS, [*owner.ancestor_ids, owner.id], "defining a survey instrument")
        records.ensure_builtin()
        latest = SurveyInstrumentVersion.objects(instrument_id=instrument_id).order_by("-version").first()
        if latest is not None and (latest.builtin or latest.owner_organization_id != owner_id):
            raise AlreadyExists(f"instrument id {instrument_id!r} belongs to another owner", reason="INSTRUMENT_ID_TAKEN")
        instrument = dataclasses.replace(asked, version=latest.version + 1 if latest else 1)
        record = SurveyInstrumentVersion.of(instrument, db.utcnow())
        try:
            self.ctx.transaction(lambda uow: uow.insert(record))
        except DuplicateKeyError:
            raise AlreadyExists(f"a new version of {instrument_id!r} was defined at the same time; try again",
                                reason="INSTRUMENT_VERSION_TAKEN") from None
        return surveys_pb2.CreateSurveyInstrumentResponse(instrument=records.instrument_message(record))

    # -- administrations -----------------------------------------------------------------------
    def CreateSurveyAdministration(self, request: surveys_pb2.CreateSurveyAdministrationRequest, _context):
        auth.require_authenticated("administering a survey")
        administration_id = chosen_or_new_id(request.administration_id, "administration_id")
        program_id = required_id(request.program_id, "program_id")
        phase = required_label(surveys_pb2.SurveyPhase, request.phase, "phase")
        instrument_id = required_id(request.instrument_id, "instrument_id")
        if request.instrument_version < 0:
            raise InvalidArgument.for_field("instrument_version", "must not be negative")
        opens = required_instant(request, "open_time")
        closes = required_instant(request, "close_time")
        if closes <= opens:
            raise InvalidArgument.for_field("close_time", "must be after open_time", reason="CLOSE_BEFORE_OPEN")
        program = self._survey_membership.program(program_id)
        scope = self._survey_membership.organization_scope(program.owner_organization_id, "program_id")
        auth.require(access.PROGRAM_MANAGERS, list(scope), "administering a survey to this program")
        version = records.instrument_version(instrument_id, request.instrument_version, "instrument_id")
        other = SurveyAdministration.objects(program_id=program_id, instrument_id=instrument_id,
                                             phase="post" if phase == "pre" else "pre").first()
        if other is not None and other.instrument_version != version.version:
            raise FailedPrecondition(f"the program's {other.phase} administration uses version "
                                     f"{other.instrument_version} of {instrument_id!r}: pre and post must use the "
                                     f"same version to be compared", reason="INSTRUMENT_VERSION_MISMATCH",
                                     metadata={"field": "instrument_version"})
        record = SurveyAdministration(
            id=administration_id, program_id=program_id, program_year=program.program_year,
            owner_organization_id=program.owner_organization_id, owner_scope=list(scope), phase=phase,
            instrument_id=instrument_id, instrument_version=version.version, open_time=opens, close_time=closes,
            create_time=db.utcnow())
        message = records.administration_message(record)

        def work(uow: db.UnitOfWork) -> None:
            uow.insert(record)
            # The version is in use: it can never change (no version ever does), and now says so.
            uow.update_one(SurveyInstrumentVersion, {"_id": version.key}, {"$set": {"administered": True}})
            uow.emit(self.ctx.event(ADMINISTRATION_OPENED, record.id,
                                    surveys_pb2.SurveyAdministrationOpened(administration=message), scope=scope))

        try:
            self.ctx.transaction(work)
        except DuplicateKeyError:
            raise AlreadyExists(f"administration {administration_id!r} exists, or the program already has a {phase} "
                                f"administration of {instrument_id!r}", reason="ADMINISTRATION_EXISTS") from None
        return surveys_pb2.CreateSurveyAdministrationResponse(administration=message)

    def ListSurveyAdministrations(self, request: surveys_pb2.ListSurveyAdministrationsRequest, _context):
        auth.require_authenticated("listing survey administrations")
        query = {"program_id": required_id(request.program_id, "program_id")}
        phase = optional_label(surveys_pb2.SurveyPhase, request.phase, "phase")
        if phase:
            query["phase"] = phase
        found, token = page_of(SurveyAdministration, query, request.page_size, request.page_token)
        return surveys_pb2.ListSurveyAdministrationsResponse(
            administrations=[records.administration_message(r) for r in found], next_page_token=token)

    def GetSurveyAdministration(self, request: surveys_pb2.GetSurveyAdministrationRequest, _context):
        auth.require_authenticated("reading a survey administration")
        found = records.administration(lookup_id(request.id, "id"))
        return surveys_pb2.GetSurveyAdministrationResponse(administration=records.administration_message(found))

    def CloseSurveyAdministration(self, request: surveys_pb2.CloseSurveyAdministrationRequest, _context):
        auth.require_authenticated("closing a survey")
        administration = records.administration(lookup_id(request.id, "id"))
        auth.require(access.PROGRAM_MANAGERS, list(administration.owner_scope), "closing this survey")
        now = db.utcnow()
        # One not open yet closes at its opening: it never takes an answer.
        closes = max(now, administration.open_time)

        def work(uow: db.UnitOfWork) -> surveys_pb2.SurveyAdministration:
            changed = uow.update_one(SurveyAdministration, {"_id": administration.id, "close_time": {"$gt": closes}},
                                     {"$set": {"close_time": closes}})
            if changed.matched_count == 0:
                raise FailedPrecondition("the survey has already closed", reason="SURVEY_CLOSED")
            administration.close_time = closes
            message = records.administration_message(administration)
            uow.emit(self.ctx.event(ADMINISTRATION_CLOSED, administration.id,
                                    surveys_pb2.SurveyAdministrationClosed(administration=message),
                                    scope=administration.owner_scope))
            return message

        return surveys_pb2.CloseSurveyAdministrationResponse(administration=self.ctx.transaction(work))

    # -- responses -----------------------------------------------------------------------------
    def SubmitSurveyResponse(self, request: surveys_pb2.SubmitSurveyResponseRequest, _context):
        identity = access.person("responding to a survey")
        if len(request.answers) > instruments.MAX_ITEMS:
            raise InvalidArgument.for_field("answers", f"must be at most {instruments.MAX_ITEMS}", reason="TOO_MANY")
        administration = records.administration(lookup_id(request.administration_id, "administration_id"),
                                                "administration_id")
        instrument = records.instrument_version(administration.instrument_id,
                                                administration.instrument_version).instrument()
        answers = instrument.check_answers(list(request.answers))
        now = db.utcnow()
        self._survey_require_open(administration, now)
        if responses.already_responded(administration.id, identity.person_id):
            raise responses.refused_twice()
        place = self._survey_membership.participation(administration.program_id, identity.person_id)
        if place is None:
            raise PermissionDenied("only the program's participants (a confirmed place in one of its communities) "
                                   "may respond", reason="NOT_A_PARTICIPANT")
        responses.record(self.ctx, administration, instrument, place, identity.person_id, answers, now)
        return surveys_pb2.SubmitSurveyResponseResponse(administration_id=administration.id, counted=True)

    @staticmethod
    def _survey_require_open(administration: SurveyAdministration, now) -> None:
        if now < administration.open_time:
            raise FailedPrecondition("the survey is not open yet", reason="SURVEY_NOT_OPEN")
        if now >= administration.close_time:
            raise FailedPrecondition("the survey has closed", reason="SURVEY_CLOSED")

    def GetMySurveyStatus(self, request: surveys_pb2.GetMySurveyStatusRequest, _context):
        identity = access.person("asking whether you have responded")
        administration = records.administration(lookup_id(request.administration_id, "administration_id"),
                                                "administration_id")
        responded = responses.already_responded(administration.id, identity.person_id)
        now = db.utcnow()
        may = (not responded and administration.open_time <= now < administration.close_time
               and self._survey_membership.participation(administration.program_id, identity.person_id) is not None)
        return surveys_pb2.GetMySurveyStatusResponse(administration_id=administration.id, responded=responded,
                                                     may_respond=may)

    # -- reports -------------------------------------------------------------------------------
    def _survey_reach(self, administration: SurveyAdministration, action: str) -> reports.Reach | None:
        def county_offices():
            return {place.county_office_id for place in self._survey_membership.program_communities(
                administration.program_id).values() if place.county_office_id}

        return access.report_reach(administration.owner_scope, county_offices, action)

    def GetSurveyReport(self, request: surveys_pb2.GetSurveyReportRequest, _context):
        auth.require_authenticated("reading a survey report")
        administration = records.administration(lookup_id(request.administration_id, "administration_id"),
                                                "administration_id")
        breakdown = breakdown_of(request.breakdown)
        reach = self._survey_reach(administration, "reading this survey's report")
        instrument = records.instrument_version(administration.instrument_id,
                                                administration.instrument_version).instrument()
        report = reports.report(instrument, records.administration_message(administration),
                                records.tallies(administration.id), breakdown, self.ctx.settings.suppression_min_cell,
                                reach, collecting=db.utcnow() < administration.close_time)
        return surveys_pb2.GetSurveyReportResponse(report=report)

    def GetSurveyComparison(self, request: surveys_pb2.GetSurveyComparisonRequest, _context):
        auth.require_authenticated("comparing a program's surveys")
        program_id = required_id(request.program_id, "program_id")
        breakdown = breakdown_of(request.breakdown)
        query = {"program_id": program_id}
        if request.instrument_id:
            query["instrument_id"] = required_id(request.instrument_id, "instrument_id")
        found = list(SurveyAdministration.objects(**query).order_by("instrument_id").limit(100))
        pairs = {}
        for administration in found:
            pairs.setdefault(administration.instrument_id, {})[administration.phase] = administration
        complete = [pair for pair in pairs.values() if set(pair) == {"pre", "post"}]
        if not complete:
            raise FailedPrecondition("the program has no pre and post administration of one instrument to compare",
                                     reason="NO_PRE_AND_POST")
        if len(complete) > 1:
            raise InvalidArgument.for_field("instrument_id", "the program has pre and post administrations of "
                                                             "several instruments: name one", reason="AMBIGUOUS")
        pre, post = complete[0]["pre"], complete[0]["post"]
        reach = self._survey_reach(pre, "comparing this program's surveys")
        instrument = records.instrument_version(pre.instrument_id, pre.instrument_version).instrument()
        now = db.utcnow()
        comparison = reports.comparison(instrument, records.administration_message(pre),
                                        records.administration_message(post), records.tallies(pre.id),
                                        records.tallies(post.id), breakdown, self.ctx.settings.suppression_min_cell,
                                        reach, collecting=(now < pre.close_time, now < post.close_time))
        return surveys_pb2.GetSurveyComparisonResponse(comparison=comparison)


def breakdown_of(number: int) -> str:
    label = optional_label(surveys_pb2.SurveyBreakdown, number, "breakdown", default="")
    return label or ""
