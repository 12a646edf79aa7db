"""Surveys: JSON models <-> reflection messages. A withheld figure becomes null."""

from __future__ import annotations

from copnet.gateway.convert.common import enum_from_proto, enum_to_proto, or_null, rfc3339, timestamp_of
from copnet.gateway.schemas import surveys as schemas
from copnet.reflection.v1 import surveys_pb2


def create_instrument_request(body: schemas.SurveyInstrumentCreate) -> surveys_pb2.CreateSurveyInstrumentRequest:
    return surveys_pb2.CreateSurveyInstrumentRequest(
        instrument_id=body.id or "", owner_organization_id=body.owner_organization_id, name=body.name,
        description=body.description, source=body.source, scale_points=body.scale_points,
        scale_labels=body.scale_labels,
        subscales=[surveys_pb2.SurveySubscale(code=s.code, name=s.name, description=s.description)
                   for s in body.subscales],
        items=[surveys_pb2.SurveyItem(id=i.id, text=i.text, subscale=i.subscale, reverse_scored=i.reverse_scored)
               for i in body.items])


def instrument(message: surveys_pb2.SurveyInstrument) -> schemas.SurveyInstrument:
    return schemas.SurveyInstrument(
        id=message.id, version=message.version, name=message.name, description=message.description,
        source=message.source, owner_organization_id=or_null(message.owner_organization_id),
        builtin=message.builtin, scale_points=message.scale_points, scale_labels=list(message.scale_labels),
        subscales=[schemas.SurveySubscale(code=s.code, name=s.name, description=s.description)
                   for s in message.subscales],
        items=[schemas.SurveyItem(id=i.id, text=i.text, subscale=i.subscale, reverse_scored=i.reverse_scored)
               for i in message.items],
        administered=message.administered, created_at=rfc3339(message.create_time))


def phase_to_proto(phase: schemas.SurveyPhase | None) -> int:
    return enum_to_proto(surveys_pb2.SurveyPhase, phase)


def breakdown_to_proto(breakdown: schemas.SurveyBreakdown | None) -> int:
    return enum_to_proto(surveys_pb2.SurveyBreakdown, breakdown)


def breakdown_from_proto(number: int) -> schemas.SurveyBreakdown | None:
    return schemas.SurveyBreakdown(enum_from_proto(surveys_pb2.SurveyBreakdown, number)) if number else None


def create_administration_request(program_id: str, body: schemas.SurveyAdministrationCreate
                                  ) -> surveys_pb2.CreateSurveyAdministrationRequest:
    return surveys_pb2.CreateSurveyAdministrationRequest(
        administration_id=body.id or "", program_id=program_id, phase=phase_to_proto(body.phase),
        instrument_id=body.instrument_id, instrument_version=body.instrument_version,
        open_time=timestamp_of(body.opens_at), close_time=timestamp_of(body.closes_at))


def administration(message: surveys_pb2.SurveyAdministration) -> schemas.SurveyAdministration:
    return schemas.SurveyAdministration(
        id=message.id, program_id=message.program_id, program_year=message.program_year,
        owner_organization_id=message.owner_organization_id,
        phase=schemas.SurveyPhase(enum_from_proto(surveys_pb2.SurveyPhase, message.phase)),
        instrument_id=message.instrument_id, instrument_version=message.instrument_version,
        opens_at=rfc3339(message.open_time), closes_at=rfc3339(message.close_time),
        created_at=rfc3339(message.create_time))


def _shown(value, withheld: bool):
    return None if withheld else value


def _subscale(result: surveys_pb2.SurveySubscaleResult) -> schemas.SubscaleResult:
    return schemas.SubscaleResult(subscale=result.subscale, mean=_shown(result.mean, result.withheld),
                                  standard_deviation=_shown(result.standard_deviation, result.withheld))


def _item(result: surveys_pb2.SurveyItemResult) -> schemas.ItemResult:
    return schemas.ItemResult(
        item_id=result.item_id, subscale=result.subscale, reverse_scored=result.reverse_scored,
        mean=_shown(result.mean, result.withheld),
        standard_deviation=_shown(result.standard_deviation, result.withheld),
        distribution=[schemas.AnswerCount(point=c.point, respondents=_shown(c.respondents, c.withheld))
                      for c in result.distribution])


def report(message: surveys_pb2.SurveyReport) -> schemas.SurveyReport:
    return schemas.SurveyReport(
        administration=administration(message.administration), min_cell=message.min_cell,
        respondents=_shown(message.respondents, message.withheld), restricted=message.restricted,
        collecting=message.collecting,
        subscales=[_subscale(s) for s in message.subscales], items=[_item(i) for i in message.items],
        breakdown=breakdown_from_proto(message.breakdown),
        groups=[schemas.GroupResult(group_id=g.group_id, respondents=_shown(g.respondents, g.withheld),
                                    subscales=[_subscale(s) for s in g.subscales], items=[_item(i) for i in g.items])
                for g in message.groups])


def _change(change: surveys_pb2.SurveyChange) -> schemas.Change:
    hidden = change.withheld
    return schemas.Change(key=change.key, pre_mean=_shown(change.pre_mean, hidden),
                          post_mean=_shown(change.post_mean, hidden), difference=_shown(change.difference, hidden),
                          effect_size=change.effect_size if change.HasField("effect_size") and not hidden else None)


def comparison(message: surveys_pb2.SurveyComparison) -> schemas.SurveyComparison:
    return schemas.SurveyComparison(
        program_id=message.program_id, instrument_id=message.instrument_id,
        instrument_version=message.instrument_version, pre_administration_id=message.pre_administration_id,
        post_administration_id=message.post_administration_id, min_cell=message.min_cell,
        pre_respondents=_shown(message.pre_respondents, message.pre_withheld),
        post_respondents=_shown(message.post_respondents, message.post_withheld), restricted=message.restricted,
        pre_collecting=message.pre_collecting, post_collecting=message.post_collecting,
        subscales=[_change(c) for c in message.subscales], items=[_change(c) for c in message.items],
        breakdown=breakdown_from_proto(message.breakdown),
        groups=[schemas.GroupComparison(group_id=g.group_id,
                                        pre_respondents=_shown(g.pre_respondents, g.pre_withheld),
                                        post_respondents=_shown(g.post_respondents, g.post_withheld),
                                        subscales=[_change(c) for c in g.subscales])
                for g in message.groups])
