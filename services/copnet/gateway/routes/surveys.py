"""/api/v1: data reflection's teacher surveys (the reflection service): instruments, their
administrations to a program's participants, anonymous responses and suppressed reports."""

from __future__ import annotations

from flask import url_for
from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED, PROGRAM_MANAGERS, roles_required
from copnet.gateway.backend import reflection
from copnet.gateway.convert import surveys as convert
from copnet.gateway.openapi import LIST_PROBLEMS, READ_PROBLEMS, WRITE_PROBLEMS, operation_id, problem_responses
from copnet.gateway.schemas.common import NoBody
from copnet.gateway.schemas.surveys import (ComparisonQuery, MySurveyStatus, ProgramSurveysPath, ReportQuery,
                                            SurveyAdministration, SurveyAdministrationCreate,
                                            SurveyAdministrationList, SurveyAdministrationPath,
                                            SurveyAdministrationQuery, SurveyAnswers, SurveyComparison,
                                            SurveyInstrument, SurveyInstrumentCreate, SurveyInstrumentList,
                                            SurveyInstrumentPath, SurveyInstrumentQuery,
                                            SurveyInstrumentVersionQuery, SurveyReport, SurveyResponseCounted)
from copnet.reflection.v1 import surveys_pb2

blueprint = APIBlueprint("surveys", __name__, url_prefix="/api/v1", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="surveys", description="Data reflection: teacher surveys, answered "
                                                                   "anonymously and reported suppressed.")])


# -- instruments ---------------------------------------------------------------------------------
@blueprint.get("/survey-instruments", responses={200: SurveyInstrumentList, **problem_responses(422, 503, 504)})
def list_survey_instruments(query: SurveyInstrumentQuery):
    """Every version of every instrument (the built-in mathematics teaching efficacy scale, regions'
    own), by id then version. Public."""
    reply = reflection().ListSurveyInstruments(surveys_pb2.ListSurveyInstrumentsRequest(
        page_size=query.page_size, page_token=query.page_token, owner_organization_id=query.owner_organization_id))
    return SurveyInstrumentList(items=[convert.instrument(i) for i in reply.instruments],
                                next_page_token=reply.next_page_token).model_dump(mode="json")


@blueprint.get("/survey-instruments/<id>", responses={200: SurveyInstrument, **problem_responses(404, 422, 503, 504)})
def get_survey_instrument(path: SurveyInstrumentPath, query: SurveyInstrumentVersionQuery):
    """One instrument: its latest version, or the `version` asked. Public."""
    reply = reflection().GetSurveyInstrument(surveys_pb2.GetSurveyInstrumentRequest(id=path.id, version=query.version))
    return convert.instrument(reply.instrument).model_dump(mode="json")


@blueprint.post("/survey-instruments", responses={201: SurveyInstrument, **WRITE_PROBLEMS}, security=BEARER_REQUIRED,
                openapi_extensions=roles_required(*PROGRAM_MANAGERS))
def create_survey_instrument(body: SurveyInstrumentCreate):
    """Define a region's own Likert instrument (at most 60 items of at most 500 characters, 2-7 points),
    or the next version of one (regional leads over the region, platform admins). Versions never change."""
    reply = reflection().CreateSurveyInstrument(convert.create_instrument_request(body))
    made = convert.instrument(reply.instrument)
    return made.model_dump(mode="json"), 201, {"Location": url_for(".get_survey_instrument", id=made.id,
                                                                   version=made.version)}


# -- administrations -----------------------------------------------------------------------------
@blueprint.post("/programs/<id>/survey-administrations", responses={201: SurveyAdministration, **WRITE_PROBLEMS},
                security=BEARER_REQUIRED, openapi_extensions=roles_required(*PROGRAM_MANAGERS))
def create_survey_administration(path: ProgramSurveysPath, body: SurveyAdministrationCreate):
    """Give an instrument to the program's participants, pre or post, between two instants (the
    program's managers). A post administration uses its pre administration's version."""
    reply = reflection().CreateSurveyAdministration(convert.create_administration_request(path.id, body))
    made = convert.administration(reply.administration)
    return made.model_dump(mode="json"), 201, {"Location": url_for(".get_survey_administration", id=made.id)}


@blueprint.get("/programs/<id>/survey-administrations", responses={200: SurveyAdministrationList, **LIST_PROBLEMS},
               security=BEARER_REQUIRED)
def list_survey_administrations(path: ProgramSurveysPath, query: SurveyAdministrationQuery):
    """The program's survey administrations in id order, a page at a time."""
    reply = reflection().ListSurveyAdministrations(surveys_pb2.ListSurveyAdministrationsRequest(
        program_id=path.id, page_size=query.page_size, page_token=query.page_token,
        phase=convert.phase_to_proto(query.phase)))
    return SurveyAdministrationList(items=[convert.administration(a) for a in reply.administrations],
                                    next_page_token=reply.next_page_token).model_dump(mode="json")


@blueprint.get("/survey-administrations/<id>", responses={200: SurveyAdministration, **READ_PROBLEMS},
               security=BEARER_REQUIRED)
def get_survey_administration(path: SurveyAdministrationPath):
    """One survey administration (read its instrument at /survey-instruments/{instrument_id})."""
    reply = reflection().GetSurveyAdministration(surveys_pb2.GetSurveyAdministrationRequest(id=path.id))
    return convert.administration(reply.administration).model_dump(mode="json")


@blueprint.post("/survey-administrations/<id>/close", responses={200: SurveyAdministration, **WRITE_PROBLEMS},
                security=BEARER_REQUIRED, openapi_extensions=roles_required(*PROGRAM_MANAGERS))
def close_survey_administration(path: SurveyAdministrationPath, body: NoBody):
    """Stop taking answers now (the program's managers); the report shows means from then on."""
    reply = reflection().CloseSurveyAdministration(surveys_pb2.CloseSurveyAdministrationRequest(id=path.id))
    return convert.administration(reply.administration).model_dump(mode="json")


# -- responses -----------------------------------------------------------------------------------
@blueprint.post("/survey-administrations/<id>/responses", responses={201: SurveyResponseCounted, **WRITE_PROBLEMS},
                security=BEARER_REQUIRED)
def submit_survey_response(path: SurveyAdministrationPath, body: SurveyAnswers):
    """Your answers, once, while the survey is open (the program's participants). They are kept without
    your name or the time, and are never shown to anyone, you included: only suppressed aggregates are."""
    reply = reflection().SubmitSurveyResponse(surveys_pb2.SubmitSurveyResponseRequest(
        administration_id=path.id, answers=body.answers))
    return SurveyResponseCounted(administration_id=reply.administration_id,
                                 counted=reply.counted).model_dump(mode="json"), 201


@blueprint.get("/survey-administrations/<id>/status", responses={200: MySurveyStatus, **READ_PROBLEMS},
               security=BEARER_REQUIRED)
def get_my_survey_status(path: SurveyAdministrationPath):
    """Whether you have responded, and whether you may respond now (yours only: yes or no)."""
    reply = reflection().GetMySurveyStatus(surveys_pb2.GetMySurveyStatusRequest(administration_id=path.id))
    return MySurveyStatus(administration_id=reply.administration_id, responded=reply.responded,
                          may_respond=reply.may_respond).model_dump(mode="json")


# -- reports -------------------------------------------------------------------------------------
@blueprint.get("/survey-administrations/<id>/report", responses={200: SurveyReport, **problem_responses(
    403, 404, 422, 503, 504)}, security=BEARER_REQUIRED)
def get_survey_report(path: SurveyAdministrationPath, query: ReportQuery):
    """Respondents, subscale and item means, answer distributions, optionally by community, county
    office or region; every figure over fewer than the region's minimum cell is null. Anyone with a
    role over the program's owner; a county admin for their county office's groups."""
    reply = reflection().GetSurveyReport(surveys_pb2.GetSurveyReportRequest(
        administration_id=path.id, breakdown=convert.breakdown_to_proto(query.breakdown)))
    return convert.report(reply.report).model_dump(mode="json")


@blueprint.get("/programs/<id>/survey-comparison", responses={200: SurveyComparison, **problem_responses(
    403, 404, 409, 422, 503, 504)}, security=BEARER_REQUIRED)
def get_survey_comparison(path: ProgramSurveysPath, query: ComparisonQuery):
    """Pre to post of the program's year: the change of each subscale and item mean and Hedges' g,
    shown only where both phases are; optionally by group."""
    reply = reflection().GetSurveyComparison(surveys_pb2.GetSurveyComparisonRequest(
        program_id=path.id, instrument_id=query.instrument_id, breakdown=convert.breakdown_to_proto(query.breakdown)))
    return convert.comparison(reply.comparison).model_dump(mode="json")
