"""/api/v1/people/{id}/programs/{program_id}: a person's professional-learning hours in one program,
as JSON and as a printable certificate (scheduling). For the person, and the managers over them."""

from __future__ import annotations

from datetime import datetime

from flask import render_template, request
from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED
from copnet.gateway.backend import scheduling
from copnet.gateway.convert import attendance as convert
from copnet.gateway.convert.common import in_zone
from copnet.gateway.openapi import UNKNOWN_TARGET_PROBLEMS, operation_id
from copnet.gateway.schemas.attendance import Certificate, LearningHours, PersonProgramPath
from copnet.scheduling.v1 import scheduling_pb2

blueprint = APIBlueprint("learning_hours", __name__, url_prefix="/api/v1/people/<id>/programs/<program_id>",
                         operation_id_callback=operation_id,
                         abp_tags=[Tag(name="attendance",
                                       description="Attendance, participation and professional-learning hours.")])
HTML, JSON = "text/html", "application/json"


@blueprint.get("/hours", responses={200: LearningHours, **UNKNOWN_TARGET_PROBLEMS}, security=BEARER_REQUIRED)
def get_learning_hours(path: PersonProgramPath):
    """Minutes actually attended in the program's sessions, one line per occurrence, and the total in hours."""
    return learning_hours(path).model_dump(mode="json")


@blueprint.get("/certificate", responses={200: Certificate, **UNKNOWN_TARGET_PROBLEMS},
               security=BEARER_REQUIRED)
def get_certificate(path: PersonProgramPath):
    """A certificate-style summary to print: who, which program and year, the issuer, each session with
    its local date and time and the minutes attended, the total hours. HTML unless JSON is asked for."""
    hours = learning_hours(path)
    if request.accept_mimetypes.best_match([HTML, JSON], default=HTML) == JSON:
        return hours.model_dump(mode="json")
    zone = hours.lines[0].time_zone if hours.lines else ""
    html = render_template("certificate.html", hours=hours, rows=[certificate_row(line) for line in hours.lines],
                           issued_on=long_date(in_zone(hours.issued_at, zone)))
    return html, 200, {"Content-Type": "text/html; charset=utf-8"}


def learning_hours(path: PersonProgramPath) -> LearningHours:
    reply = scheduling().GetLearningHours(scheduling_pb2.GetLearningHoursRequest(person_id=path.id,
                                                                                 program_id=path.program_id))
    return convert.learning_hours(reply)


def certificate_row(line) -> dict[str, str]:
    """One session as the certificate prints it: wall-clock date and time where the community meets."""
    start, end = line.local_start, line.local_end
    return {"date": long_date(start), "time": f"{clock(start)}–{clock(end)} {start.strftime('%Z')}".strip(),
            "community": line.community_name, "title": line.title, "status": line.status.value,
            "minutes": str(line.attended_minutes)}


def long_date(moment: datetime) -> str:
    return f"{moment.strftime('%a')}, {moment.strftime('%B')} {moment.day}, {moment.year}"


def clock(moment: datetime) -> str:
    return f"{moment.hour % 12 or 12}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"
