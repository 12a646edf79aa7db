"""Who reads measures: aggregates are suppressed for everyone, so anyone holding any role over
the organization's scope (its ancestry plus itself) reads them, as does a platform admin and a
service; a state coordinator sees exactly the same suppressed cells as everyone else."""

from __future__ import annotations

from collections.abc import Sequence

from copnet.kernel import auth
from copnet.kernel.auth import Role

READERS = frozenset(Role)


def require_reader(scope: Sequence[str], action: str) -> None:
    if auth.is_service(auth.current_identity()):
        return
    auth.require(set(READERS), list(scope), action)
