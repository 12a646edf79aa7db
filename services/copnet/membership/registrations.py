"""Registrations."""

from __future__ import annotations

from copnet.kernel.service import ServiceContext


class RegistrationsApi:
    ctx: ServiceContext
