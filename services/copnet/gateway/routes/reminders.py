"""/api/v1/reminders: one reminder scan now (scheduling also scans on its own, every reminder interval).
Each occurrence reminds each person once per lead time, however often it is scanned."""

from __future__ import annotations

from flask_openapi3 import APIBlueprint, Tag

from copnet.gateway.auth import BEARER_REQUIRED, PLATFORM_ADMINS, roles_required
from copnet.gateway.backend import scheduling
from copnet.gateway.convert.common import timestamp_of
from copnet.gateway.openapi import operation_id, problem_responses
from copnet.gateway.schemas.feeds import RemindersRan, RemindersRun
from copnet.scheduling.v1 import scheduling_pb2

blueprint = APIBlueprint("reminders", __name__, url_prefix="/api/v1/reminders", operation_id_callback=operation_id,
                         abp_tags=[Tag(name="reminders", description="Session reminders.")])


@blueprint.post("/run", responses={200: RemindersRan, **problem_responses(400, 403, 413, 415, 422, 503, 504)},
                security=BEARER_REQUIRED,
                openapi_extensions=roles_required(*PLATFORM_ADMINS))
def run_reminders(body: RemindersRun):
    """Emit the `session.reminder` events now due (platform admins; `now` lets them look ahead)."""
    request = scheduling_pb2.RunRemindersRequest()
    if body.now is not None:
        request.now.CopyFrom(timestamp_of(body.now))
    reply = scheduling().RunReminders(request)
    return RemindersRan(emitted=reply.emitted).model_dump(mode="json")
