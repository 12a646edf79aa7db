"""Finding the documents a request names, each with the answer its absence deserves:

- `existing`: the document a request is about (its id in the path): NOT_FOUND.
- `requested`: the same, named in a request field that may arrive empty: INVALID_FIELD when it is.
- `referenced_organization`: an organization a request refers to (a host, an affiliation, an
  owner, an eligibility rule): a wrong argument, INVALID_FIELD / UNKNOWN_ORGANIZATION.
- `reread`: a document as the current transaction sees it: NOT_FOUND when it is gone.
- `duplicate_id`: the refusal of a caller-chosen id that is taken: ALREADY_EXISTS / DUPLICATE_ID.

Many documents inside a transaction are read with the unit of work's `find_all`.
"""

from __future__ import annotations

from typing import TypeVar

import mongoengine

from copnet.kernel import db
from copnet.kernel.errors import AlreadyExists, InvalidArgument, NotFound
from copnet.membership.models import Organization

D = TypeVar("D", bound=mongoengine.Document)


def existing(document_class: type[D], document_id: str) -> D:
    """The document with this id; NotFound ("no community 'x'") when there is none or no id."""
    found = document_class.objects(id=document_id).first() if document_id else None
    if found is None:
        raise not_found(document_class, document_id)
    return found


def requested(document_class: type[D], document_id: str, field: str) -> D:
    """The document the request's `field` names: INVALID_FIELD when the field is empty, else as `existing`."""
    if not document_id:
        raise InvalidArgument.for_field(field, "is required")
    return existing(document_class, document_id)


def referenced_organization(org_id: str, field: str) -> Organization:
    """The organization the request's `field` refers to; a missing one is a wrong argument (422)."""
    if not org_id:
        raise InvalidArgument.for_field(field, "is required")
    org = Organization.objects(id=org_id).first()
    if org is None:
        raise InvalidArgument.for_field(field, f"no organization {org_id!r}", reason="UNKNOWN_ORGANIZATION")
    return org


def reread(uow: db.UnitOfWork, document_class: type[D], document_id: str) -> D:
    """The document as this transaction sees it; NotFound when it is gone."""
    found = uow.find_one(document_class, {"_id": document_id})
    if found is None:
        raise not_found(document_class, document_id)
    return found


def not_found(document_class: type[mongoengine.Document], document_id: str) -> NotFound:
    return NotFound(f"no {document_class.__name__.lower()} {document_id!r}")


def duplicate_id(document_class: type[mongoengine.Document], document_id: str, field: str) -> AlreadyExists:
    """A caller-chosen id (in the request's `field`) that another document already has."""
    return AlreadyExists(f"{document_class.__name__.lower()} {document_id!r} already exists", reason="DUPLICATE_ID",
                         metadata={"field": field})
