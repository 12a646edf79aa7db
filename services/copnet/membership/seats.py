"""The seat ledger: taking seats, the waiting list, and promotion from it.

Every function here runs inside a unit of work and updates the community's counters in the same
transaction as the registrations it changes (see models.Community).
"""

from __future__ import annotations

from copnet.kernel import db
from copnet.kernel.service import ServiceContext
from copnet.membership.models import Registration


def promote_from_waitlist(uow: db.UnitOfWork, community_id: str, changed_by: str,
                          ctx: ServiceContext) -> list[Registration]:
    """Fill the community's free seats from the head of its waiting list, first come first served.

    Free seats are capacity - confirmed_count as read in this transaction, so a caller that
    changes capacity writes it first. A waitlisted team moves up only as a whole and, until it
    fits, those behind it wait too. Updates the counters, emits one
    `copnet.membership.registration.promoted` per promoted registration, returns them.
    """
    raise NotImplementedError
