"""The region's share stream `copnet-share-<region>`, in the NATS account SHARE: exactly the five
share subjects, limits retention sized for the longest outage of the hub link, `discard: new`
(a full stream refuses a record, which then waits in the outbox instead of pushing out the
oldest), file storage, a two-minute duplicate window (the outbox's re-publishes).

The share service creates it, or brings its configuration up to date, at start and then every
few minutes, over a short connection of its own as the SHARE account's user
(COPNET_SHARE_NATS_USER / _PASSWORD); the service's own NATS user, in the COPNET account, reaches
the stream only through the account's import of `copnet-share.<region>.>`. Without the SHARE
user the stream must be made by whoever runs the NATS server.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import nats
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

from copnet.kernel.federation import share_stream_name, share_subjects
from copnet.kernel.service import PeriodicJob
from copnet.kernel.settings import Settings

log = logging.getLogger(__name__)
DAY = 24 * 3600
DUPLICATE_WINDOW_SECONDS = 120
CHECK_SECONDS = 30.0
# Once made, checked again this often (a NATS server that lost its store gets it back).
RECHECK_SECONDS = 300.0
CONNECT_SECONDS = 2.0


def share_stream_config(settings: Settings) -> StreamConfig:
    return StreamConfig(name=share_stream_name(settings.region), subjects=share_subjects(settings.region),
                        retention=RetentionPolicy.LIMITS, discard=DiscardPolicy.NEW, storage=StorageType.FILE,
                        max_age=settings.share_max_age_days * DAY, max_bytes=settings.share_max_bytes,
                        duplicate_window=DUPLICATE_WINDOW_SECONDS)


def configured(settings: Settings) -> bool:
    return bool(settings.share_nats_user and settings.nats_url)


async def _with_share_account(settings: Settings, work):
    password = settings.share_nats_password.get_secret_value() if settings.share_nats_password else ""
    nc = await nats.connect(settings.nats_url, user=settings.share_nats_user, password=password,
                            name=f"copnet-{settings.region}-share-stream", connect_timeout=CONNECT_SECONDS,
                            allow_reconnect=False, max_reconnect_attempts=0)
    try:
        return await work(nc.jetstream(timeout=CONNECT_SECONDS))
    finally:
        await nc.close()


async def _ensure(js, config: StreamConfig) -> None:
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)


def ensure_share_stream(settings: Settings) -> None:
    """Create the share stream or update its configuration (raises when NATS refuses)."""
    config = share_stream_config(settings)
    asyncio.run(_with_share_account(settings, lambda js: _ensure(js, config)))


def stream_messages(settings: Settings) -> int | None:
    """Messages the share stream holds, or None when it cannot be asked."""
    if not configured(settings):
        return None

    async def count(js):
        return (await js.stream_info(share_stream_name(settings.region))).state.messages

    try:
        return asyncio.run(_with_share_account(settings, count))
    except Exception as exc:  # noqa: BLE001 - a status read reports what it can
        log.debug("share: stream info unavailable: %s", exc)
        return None


class ShareStreamJob:
    """Makes sure the share stream exists: every CHECK_SECONDS until it does, then every RECHECK_SECONDS."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.ensured_at: float | None = None
        self._told = False
        self._lock = threading.Lock()

    def run(self) -> None:
        with self._lock:
            if not configured(self.settings):
                if not self._told:
                    log.warning("share: no SHARE account user (COPNET_SHARE_NATS_USER): the stream %s with subjects "
                                "%s must exist for records to leave the outbox", share_stream_name(self.settings.region),
                                ", ".join(share_subjects(self.settings.region)))
                    self._told = True
                return
            if self.ensured_at is not None and time.monotonic() - self.ensured_at < RECHECK_SECONDS:
                return
            ensure_share_stream(self.settings)
            if self.ensured_at is None:
                log.info("share: stream %s ready", share_stream_name(self.settings.region))
            self.ensured_at = time.monotonic()


def jobs(ctx) -> list[PeriodicJob]:
    return [PeriodicJob("share-stream", CHECK_SECONDS, ShareStreamJob(ctx.settings).run)]
