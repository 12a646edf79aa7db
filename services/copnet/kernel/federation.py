"""Names the regions and the statewide hub agree on (docs/federation.md): what a region shares,
on which subjects and streams, and how the hub's stream reaches each region's.

A region's share service sends `copnet.share.v1.SharedRecord`s as CloudEvents of SHARE_EVENT_TYPE
on `copnet-share.<region>.<kind>`; the region's share stream holds exactly those subjects (no
other kind can be stored, let alone cross), and the hub's statewide stream sources each linked
region's share stream through that region's JetStream domain.
"""

from __future__ import annotations

from copnet.kernel.settings import HUB_DOMAIN

# What crosses, each kind its own subject token.
SHARE_KINDS = ("measures", "participation", "catalog", "directory", "cycles")
SHARE_EVENT_TYPE = "copnet.share.record.published"
SHARE_SUBJECT_PREFIX = "copnet-share"
STATEWIDE_STREAM = "copnet-statewide"
# The version of SharedRecord's layout this code writes and reads.
SHARED_RECORD_SCHEMA_VERSION = 1

__all__ = ["HUB_DOMAIN", "SHARE_KINDS", "SHARE_EVENT_TYPE", "STATEWIDE_STREAM", "share_subject",
           "share_subjects", "share_stream_name", "region_api_prefix", "kind_of_subject"]


def share_subject(region: str, kind: str) -> str:
    if kind not in SHARE_KINDS:
        raise ValueError(f"not a share kind: {kind!r} (one of {', '.join(SHARE_KINDS)})")
    return f"{SHARE_SUBJECT_PREFIX}.{region}.{kind}"


def share_subjects(region: str) -> list[str]:
    """The share stream's subjects: one per kind, no wildcard (nothing else can be stored)."""
    return [share_subject(region, kind) for kind in SHARE_KINDS]


def share_stream_name(region: str) -> str:
    return f"copnet-share-{region}"


def region_api_prefix(region: str) -> str:
    """Where the hub reaches a region's JetStream API: the region's own domain."""
    return f"$JS.{region}.API"


def kind_of_subject(subject: str) -> tuple[str, str] | None:
    """copnet-share.<region>.<kind> -> (region, kind); None for any other subject."""
    parts = subject.split(".")
    if len(parts) != 3 or parts[0] != SHARE_SUBJECT_PREFIX or parts[2] not in SHARE_KINDS or not parts[1]:
        return None
    return parts[1], parts[2]
