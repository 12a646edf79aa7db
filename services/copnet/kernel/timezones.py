"""IANA time zones as every service checks them: one rule, one reason (`UNKNOWN_TIME_ZONE`)."""

from __future__ import annotations

import zoneinfo

from copnet.kernel.errors import InvalidArgument


def zone(name: str, field: str = "time_zone", *, whose: str = "") -> zoneinfo.ZoneInfo:
    """The zone called `name`; a field error on `field` when this host's tz database has none.
    `whose` says where the name came from in the message ("at the community's host")."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        where = f" {whose}" if whose else ""
        raise InvalidArgument.for_field(field, f"unknown IANA time zone {name!r}{where}",
                                        reason="UNKNOWN_TIME_ZONE") from None
