"""Who reads measures: aggregates are suppressed for everyone, so anyone holding any role over
the organization's scope (its ancestry plus itself) reads them, as does a platform admin and a
service; a state coordinator sees exactly the same suppressed cells as everyone else. A
community's effect size is its host organization's aggregate, and also its own: its confirmed
participants and its facilitators read it wherever their roles are held."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from copnet.kernel import auth
from copnet.kernel.auth import Role

READERS = frozenset(Role)


def require_reader(scope: Sequence[str], action: str, *, also: Collection[str] = ()) -> None:
    """Refuses unless the caller holds a role over `scope` (or is one of the people `also`)."""
    identity = auth.current_identity()
    if auth.is_service(identity) or (identity is not None and identity.person_id in also):
        return
    auth.require(set(READERS), list(scope), action)
