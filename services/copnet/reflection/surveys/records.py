"""Reading and writing surveys' records: instrument versions (the built-in ones written on first
use), administrations, and the messages they become."""

from __future__ import annotations

import threading

from copnet.kernel import db
from copnet.kernel.enums import to_label
from copnet.kernel.errors import NotFound
from copnet.kernel.timestamps import timestamp
from copnet.reflection.surveys.disclosure import Place
from copnet.reflection.surveys.figures import Sums
from copnet.reflection.surveys.instruments import Instrument
from copnet.reflection.surveys.models import SurveyAdministration, SurveyInstrumentVersion, SurveyTally, version_key
from copnet.reflection.surveys.mtebi import BUILTIN
from copnet.reflection.surveys.reports import CommunityTally
from copnet.reflection.v1 import surveys_pb2

_builtin_written = threading.Event()


def ensure_builtin() -> None:
    """Write the built-in instruments once per process (a version already there is kept as it is,
    `administered` included)."""
    if _builtin_written.is_set():
        return
    for instrument in BUILTIN:
        son = SurveyInstrumentVersion.of(instrument, db.utcnow()).to_mongo().to_dict()
        key = son.pop("_id")
        SurveyInstrumentVersion._get_collection().update_one({"_id": key}, {"$setOnInsert": son}, upsert=True)
    _builtin_written.set()


def instrument_version(instrument_id: str, version: int = 0, field: str = "id") -> SurveyInstrumentVersion:
    """The version asked (0: the latest)."""
    ensure_builtin()
    if version:
        found = SurveyInstrumentVersion.objects(key=version_key(instrument_id, version)).first()
    else:
        found = SurveyInstrumentVersion.objects(instrument_id=instrument_id).order_by("-version").first()
    if found is None:
        what = f"{instrument_id!r} version {version}" if version else repr(instrument_id)
        raise NotFound(f"no survey instrument {what}", reason="UNKNOWN_INSTRUMENT", metadata={"field": field})
    return found


def administration(administration_id: str, field: str = "id") -> SurveyAdministration:
    found = SurveyAdministration.objects(id=administration_id).first() if administration_id else None
    if found is None:
        raise NotFound(f"no survey administration {administration_id!r}", reason="UNKNOWN_ADMINISTRATION",
                       metadata={"field": field})
    return found


def tallies(administration_id: str) -> list[CommunityTally]:
    return [CommunityTally(Place(t.community_id, t.county_office_id, t.region_id),
                           Sums.of_stored(t.respondents, t.answers, t.subscale_sums, t.subscale_squares))
            for t in SurveyTally.objects(administration_id=administration_id)]


# -- messages ------------------------------------------------------------------------------------
def instrument_message(record: SurveyInstrumentVersion) -> surveys_pb2.SurveyInstrument:
    instrument: Instrument = record.instrument()
    return surveys_pb2.SurveyInstrument(
        id=instrument.id, version=instrument.version, name=instrument.name, description=instrument.description,
        source=instrument.source, owner_organization_id=instrument.owner_organization_id,
        builtin=instrument.builtin, scale_points=instrument.scale_points, scale_labels=instrument.scale_labels,
        subscales=[surveys_pb2.SurveySubscale(code=s.code, name=s.name, description=s.description)
                   for s in instrument.subscales],
        items=[surveys_pb2.SurveyItem(id=i.id, text=i.text, subscale=i.subscale, reverse_scored=i.reverse_scored)
               for i in instrument.items],
        administered=record.administered, create_time=timestamp(record.create_time))


PHASES = {"pre": surveys_pb2.SURVEY_PHASE_PRE, "post": surveys_pb2.SURVEY_PHASE_POST}


def phase_label(number: int) -> str:
    return to_label(surveys_pb2.SurveyPhase, number)


def administration_message(record: SurveyAdministration) -> surveys_pb2.SurveyAdministration:
    return surveys_pb2.SurveyAdministration(
        id=record.id, program_id=record.program_id, program_year=record.program_year,
        owner_organization_id=record.owner_organization_id, phase=PHASES[record.phase],
        instrument_id=record.instrument_id, instrument_version=record.instrument_version,
        open_time=timestamp(record.open_time), close_time=timestamp(record.close_time),
        create_time=timestamp(record.create_time))
