"""The seat ledger: taking seats, the waiting list, and promotion from it.

Every function here runs inside a unit of work and updates the community's counters in the same
transaction as the registrations it changes (see models.Community).
"""

from __future__ import annotations
