"""Surveys' collections. Anonymity is in the shapes: a response carries no person and no time finer
than its day; who has responded is a separate ledger that carries no answer. Reports read the
maintained tallies, never the responses."""

from __future__ import annotations

import mongoengine as me

from copnet.reflection.surveys.instruments import Instrument, Item, Subscale


class SubscaleDefinition(me.EmbeddedDocument):
    code = me.StringField(required=True)
    name = me.StringField(required=True)
    description = me.StringField(default="")


class ItemDefinition(me.EmbeddedDocument):
    id = me.StringField(required=True)
    text = me.StringField(required=True)
    subscale = me.StringField(default="")
    reverse_scored = me.BooleanField(default=False)


def version_key(instrument_id: str, version: int) -> str:
    """Sorts by id, then version."""
    return f"{instrument_id}@{version:06d}"


class SurveyInstrumentVersion(me.Document):
    """One version of an instrument; never changed once written (only `administered` is set)."""

    key = me.StringField(primary_key=True)
    instrument_id = me.StringField(required=True)
    version = me.IntField(required=True, min_value=1)
    name = me.StringField(required=True)
    description = me.StringField(default="")
    source = me.StringField(default="")
    owner_organization_id = me.StringField(default="")
    builtin = me.BooleanField(default=False)
    scale_points = me.IntField(required=True, min_value=2, max_value=7)
    scale_labels = me.ListField(me.StringField())
    subscales = me.EmbeddedDocumentListField(SubscaleDefinition)
    items = me.EmbeddedDocumentListField(ItemDefinition)
    administered = me.BooleanField(default=False)
    create_time = me.DateTimeField(required=True)
    meta = {"collection": "survey_instruments",
            "indexes": [{"fields": ["instrument_id", "-version"], "unique": True}, "owner_organization_id"]}

    @classmethod
    def of(cls, instrument: Instrument, create_time) -> SurveyInstrumentVersion:
        return cls(key=version_key(instrument.id, instrument.version), instrument_id=instrument.id,
                   version=instrument.version, name=instrument.name, description=instrument.description,
                   source=instrument.source, owner_organization_id=instrument.owner_organization_id,
                   builtin=instrument.builtin, scale_points=instrument.scale_points,
                   scale_labels=list(instrument.scale_labels),
                   subscales=[SubscaleDefinition(code=s.code, name=s.name, description=s.description)
                              for s in instrument.subscales],
                   items=[ItemDefinition(id=i.id, text=i.text, subscale=i.subscale, reverse_scored=i.reverse_scored)
                          for i in instrument.items],
                   create_time=create_time)

    def instrument(self) -> Instrument:
        return Instrument(self.instrument_id, self.version, self.name, self.description, self.source,
                          self.scale_points, tuple(self.scale_labels),
                          tuple(Subscale(s.code, s.name, s.description) for s in self.subscales),
                          tuple(Item(i.id, i.text, i.subscale, i.reverse_scored) for i in self.items),
                          self.owner_organization_id, self.builtin)


class SurveyAdministration(me.Document):
    id = me.StringField(primary_key=True)
    program_id = me.StringField(required=True)
    program_year = me.StringField(default="")
    owner_organization_id = me.StringField(required=True)
    # The owner's ancestry and itself when the administration was made: who reads its reports.
    owner_scope = me.ListField(me.StringField())
    phase = me.StringField(required=True, choices=("pre", "post"))
    instrument_id = me.StringField(required=True)
    instrument_version = me.IntField(required=True)
    open_time = me.DateTimeField(required=True)
    close_time = me.DateTimeField(required=True)
    create_time = me.DateTimeField(required=True)
    meta = {"collection": "survey_administrations",
            "indexes": [{"fields": ["program_id", "phase", "instrument_id"], "unique": True}]}


class SurveyResponse(me.Document):
    """One respondent's answers: a random id, their community (for breakdowns), the day. No person."""

    id = me.StringField(primary_key=True)
    administration_id = me.StringField(required=True)
    community_id = me.StringField(required=True)
    day = me.StringField(required=True)  # YYYY-MM-DD, UTC
    answers = me.ListField(me.IntField(min_value=1, max_value=7), required=True)
    meta = {"collection": "survey_responses", "indexes": ["administration_id"]}


class SurveyRespondent(me.Document):
    """That a person has responded to an administration, and nothing else (no answer, no time)."""

    id = me.StringField(primary_key=True)
    administration_id = me.StringField(required=True)
    person_id = me.StringField(required=True)
    meta = {"collection": "survey_respondents",
            "indexes": [{"fields": ["administration_id", "person_id"], "unique": True}]}


def tally_key(administration_id: str, community_id: str) -> str:
    return f"{administration_id} {community_id}"


class SurveyTally(me.Document):
    """The sums of one administration's responses from one community, kept in the response's
    transaction: respondents, answers per (item, point) and each subscale's sum and sum of squares
    of respondents' scores (for means and standard deviations)."""

    key = me.StringField(primary_key=True)
    administration_id = me.StringField(required=True)
    community_id = me.StringField(required=True)
    county_office_id = me.StringField(default="")
    region_id = me.StringField(default="")
    respondents = me.IntField(default=0)
    # item id -> {str(point): respondents}
    answers = me.DictField()
    subscale_sums = me.DictField()
    subscale_squares = me.DictField()
    meta = {"collection": "survey_tallies", "indexes": ["administration_id"]}


DOCUMENTS = [SurveyInstrumentVersion, SurveyAdministration, SurveyResponse, SurveyRespondent, SurveyTally]
