"""The revoked token ids a process refuses: membership keeps the list (`RevokeToken`), every
service holds a copy that the kernel refreshes in the background every REFRESH_SECONDS (a
`PeriodicJob`), so checking a token never waits on the network.

When the list cannot be fetched, the last copy stays in use (logged): a membership outage must not
refuse every caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0


class RevocationList:
    def __init__(self, fetch: Callable[[], Iterable[str]]):
        self._fetch = fetch
        self._ids: frozenset[str] = frozenset()

    def __contains__(self, token_id: str) -> bool:
        return token_id in self._ids

    def refresh(self) -> None:
        """Fetches the list again; on a failure keeps the copy it has."""
        try:
            self._ids = frozenset(self._fetch())
        except Exception as error:  # noqa: BLE001  (any failure: keep the last copy)
            log.warning("tokens: cannot fetch the revoked token ids (%s); using the %d known",
                        type(error).__name__, len(self._ids))
