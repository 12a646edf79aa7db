"""Registrations."""

from __future__ import annotations

from copnet.kernel.service import ServiceContext


class RegistrationsApi:
    ctx: ServiceContext


def registration_message(registration, waitlist_position: int = 0):
    """The Registration message for a document; `waitlist_position` is the 1-based place (0 unless waitlisted)."""
    raise NotImplementedError
