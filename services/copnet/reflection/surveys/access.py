"""Who may do what with surveys.

- Define a region's instrument: regional leads over the region (or state), platform admins.
- Administer a survey to a program: its managers (regional leads over the owner, platform admins).
- Respond: a person with a confirmed registration in one of the program's communities.
- Read reports: anyone holding a role over the program's owner (its ancestry plus itself: the
  regional lead, a state coordinator, ...), platform admins, and a county admin for the groups in
  their county office. Every report is suppressed the same way for all of them; none holds a
  single person's answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from copnet.kernel import auth
from copnet.kernel.auth import Identity, Role
from copnet.kernel.errors import PermissionDenied
from copnet.reflection.surveys.reports import Reach

PROGRAM_MANAGERS = {Role.PLATFORM_ADMIN, Role.REGIONAL_LEAD}
INSTRUMENT_AUTHORS = PROGRAM_MANAGERS
REPORT_READERS = set(Role)


def person(action: str) -> Identity:
    """The calling person (a service has no answers to give and no status to ask)."""
    identity = auth.require_authenticated(action)
    if auth.is_service(identity):
        raise PermissionDenied(f"{action} is for a person, not a service", reason="PERSON_REQUIRED")
    return identity


def report_reach(scope: Sequence[str], county_office_ids: Callable[[], Iterable[str]], action: str) -> Reach | None:
    """None for a reader of the whole report; a county admin's reach (the program's county offices
    they hold the role at); refused otherwise."""
    identity = auth.require_authenticated(action)
    if auth.is_service(identity) or identity.may(REPORT_READERS, list(scope)):
        return None
    held = {grant.org_id for grant in identity.grants if grant.role is Role.COUNTY_ADMIN}
    reached = held & set(county_office_ids()) if held else set()
    if not reached:
        raise PermissionDenied(f"{action} needs a role over the program's owner, or county_admin at a county "
                               f"office one of its communities is in", reason="OUT_OF_SCOPE")
    return Reach(frozenset(reached))
