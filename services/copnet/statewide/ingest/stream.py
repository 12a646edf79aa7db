"""The hub's statewide stream: no subjects of its own, one source per linked region's share
stream, reached through that region's JetStream domain (docs/federation.md). JetStream copies
each region's records across and, after an outage of the link, resumes where it stopped."""

from __future__ import annotations

from collections.abc import Sequence

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig, StreamSource

from copnet.federation_nats import share_subjects_pattern, statewide_source
from copnet.kernel.federation import STATEWIDE_STREAM, share_stream_name

DAY = 24 * 3600
# Everything applied is also in the database (state and history): the stream keeps a year to
# apply again from, e.g. after the hub's database was restored from an older backup.
STATEWIDE_MAX_AGE_SECONDS = 400 * DAY


def region_source(region: str, *, external: bool = True) -> StreamSource:
    """The source of `region`'s records: its share stream, only its own subjects, through its
    domain's API, delivered on the subjects its leaf user may publish at the hub
    (copnet.federation_nats.statewide_source). `external=False` is for tests that keep a stand-in
    share stream in the hub's own account (no leaf node)."""
    if external:
        return statewide_source(region)
    return StreamSource(name=share_stream_name(region), filter_subject=share_subjects_pattern(region))


def statewide_stream_config(regions: Sequence[str], *, external: bool = True) -> StreamConfig:
    """The statewide stream with a source per region; applied again at every start, so a region
    added to COPNET_HUB_REGIONS gets its source (the other sources carry on where they were)."""
    return StreamConfig(name=STATEWIDE_STREAM, subjects=[], retention=RetentionPolicy.LIMITS,
                        discard=DiscardPolicy.OLD, storage=StorageType.FILE, max_age=STATEWIDE_MAX_AGE_SECONDS,
                        sources=[region_source(region, external=external) for region in regions])
