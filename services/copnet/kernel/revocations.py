"""The revoked token ids a process refuses: membership keeps the list (`RevokeToken`), every
service holds a copy fetched again at most every REFRESH_SECONDS, on the next call it verifies.

One caller refreshes at a time; the others go on with the copy they have. When the list cannot be
fetched, the last copy stays in use (logged): a membership outage must not refuse every caller.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0


class RevocationList:
    def __init__(self, fetch: Callable[[], Iterable[str]], refresh_seconds: float = REFRESH_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self._fetch = fetch
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._ids: frozenset[str] = frozenset()
        self._next_refresh = float("-inf")
        self._refreshing = threading.Lock()

    def __contains__(self, token_id: str) -> bool:
        self._refresh_if_due()
        return token_id in self._ids

    def _refresh_if_due(self) -> None:
        if self._clock() < self._next_refresh or not self._refreshing.acquire(blocking=False):
            return
        try:
            if self._clock() < self._next_refresh:
                return  # refreshed by another thread meanwhile
            try:
                self._ids = frozenset(self._fetch())
            except Exception as error:  # noqa: BLE001  (any failure: keep the last copy)
                log.warning("tokens: cannot fetch the revoked token ids (%s); using the %d known",
                            type(error).__name__, len(self._ids))
            self._next_refresh = self._clock() + self._refresh_seconds
        finally:
            self._refreshing.release()
