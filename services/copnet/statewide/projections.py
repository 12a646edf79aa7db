"""The views' read models, kept by the ingest area in the same transaction as each record it
applies: `project(uow, region, record)` is called once per applied version (never for a stale or
repeated one), with `record.withdrawn` set when the entity is gone. The views area owns this
module and the documents it writes (`PROJECTION_DOCUMENTS`)."""

from __future__ import annotations

from copnet.kernel import db
from copnet.share.v1 import share_pb2

PROJECTION_DOCUMENTS: list = []


def project(uow: db.UnitOfWork, region: str, record: share_pb2.SharedRecord) -> None:
    """Bring the read models up to `record` (the newest version of its (region, kind, key))."""
