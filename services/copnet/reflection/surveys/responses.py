"""Taking one anonymous response: the answers (no person, a random id, the day), the ledger entry
saying the person has responded (no answer), the tallies reports read, and the count event, all in
one transaction: a crash leaves either all of them or none, and the ledger's unique index refuses a
second response even from two calls at once."""

from __future__ import annotations

import datetime as dt
import secrets

from pymongo.errors import DuplicateKeyError

from copnet.kernel import db
from copnet.kernel.errors import AlreadyExists
from copnet.kernel.service import ServiceContext
from copnet.reflection import suppression
from copnet.reflection.surveys.instruments import Instrument
from copnet.reflection.surveys.membership import Placement
from copnet.reflection.surveys.models import (SurveyAdministration, SurveyRespondent, SurveyResponse, SurveyTally,
                                              tally_key)
from copnet.reflection.surveys.records import PHASES
from copnet.reflection.v1 import surveys_pb2

RESPONSE_COUNTED = "copnet.reflection.survey.response_counted"


def already_responded(administration_id: str, person_id: str) -> bool:
    return SurveyRespondent.objects(administration_id=administration_id, person_id=person_id).first() is not None


def refused_twice() -> AlreadyExists:
    return AlreadyExists("you have already responded to this survey (one response per person)",
                         reason="ALREADY_RESPONDED")


def tally_increments(instrument: Instrument, answers: tuple[int, ...]) -> dict[str, float]:
    """What one response adds to its community's tally."""
    increments: dict[str, float] = {"respondents": 1}
    for item, answer in zip(instrument.items, answers, strict=True):
        increments[f"answers.{item.id}.{answer}"] = 1
    for code, score in instrument.subscale_scores(answers).items():
        increments[f"subscale_sums.{code}"] = score
        increments[f"subscale_squares.{code}"] = score * score
    return increments


def counted_figure(respondents: int, min_cell: int) -> tuple[int, bool]:
    """The running count as an event may carry it: withheld by the engine under the threshold."""
    withheld = suppression.suppress({"respondents": respondents}, [], min_cell)
    return (0, True) if withheld else (respondents, False)


def record(ctx: ServiceContext, administration: SurveyAdministration, instrument: Instrument, place: Placement,
           person_id: str, answers: tuple[int, ...], now: dt.datetime) -> None:
    increments = tally_increments(instrument, answers)
    min_cell = ctx.settings.suppression_min_cell

    def work(uow: db.UnitOfWork) -> None:
        try:
            uow.insert(SurveyRespondent(id=secrets.token_hex(16), administration_id=administration.id,
                                        person_id=person_id))
        except DuplicateKeyError:
            raise refused_twice() from None
        uow.insert(SurveyResponse(id=secrets.token_hex(16), administration_id=administration.id,
                                  community_id=place.community_id, day=now.date().isoformat(), answers=list(answers)))
        uow.update_one(SurveyTally, {"_id": tally_key(administration.id, place.community_id)}, {
            "$inc": increments,
            "$set": {"administration_id": administration.id, "community_id": place.community_id,
                     "county_office_id": place.county_office_id, "region_id": place.region_id}}, upsert=True)
        respondents = sum(t.respondents for t in uow.find_all(SurveyTally, {"administration_id": administration.id}))
        shown, withheld = counted_figure(respondents, min_cell)
        uow.emit(ctx.event(RESPONSE_COUNTED, administration.id, surveys_pb2.SurveyResponseCounted(
            administration_id=administration.id, program_id=administration.program_id,
            phase=PHASES[administration.phase], respondents=shown, respondents_withheld=withheld),
            scope=administration.owner_scope))

    ctx.transaction(work)
