"""Reading one document by id, or answering NOT_FOUND: outside a transaction, and inside one;
and every document matching a filter inside one."""

from __future__ import annotations

from typing import TypeVar

import mongoengine

from copnet.kernel import db
from copnet.kernel.errors import NotFound

D = TypeVar("D", bound=mongoengine.Document)


def existing(document_class: type[D], document_id: str) -> D:
    """The document with this id; NotFound ("no community 'x'") when there is none or no id."""
    found = document_class.objects(id=document_id).first() if document_id else None
    if found is None:
        raise NotFound(f"no {document_class.__name__.lower()} {document_id!r}")
    return found


def reread(uow: db.UnitOfWork, document_class: type[D], document_id: str) -> D:
    """The document as this transaction sees it; NotFound when it is gone."""
    found = uow.find_one(document_class, {"_id": document_id})
    if found is None:
        raise NotFound(f"no {document_class.__name__.lower()} {document_id!r}")
    return found

