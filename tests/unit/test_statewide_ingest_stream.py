"""The hub's statewide stream: sources only, one per linked region, through the region's domain."""

from __future__ import annotations

from nats.js.api import RetentionPolicy, StorageType

from copnet.kernel.federation import STATEWIDE_STREAM
from copnet.statewide.ingest.stream import statewide_stream_config


def test_one_source_per_region_each_filtered_to_its_own_subjects_through_its_domain():
    config = statewide_stream_config(["north", "south"])
    assert config.name == STATEWIDE_STREAM
    assert config.subjects == []
    assert (config.retention, config.storage) == (RetentionPolicy.LIMITS, StorageType.FILE)
    assert config.max_age >= 365 * 24 * 3600
    assert [(s.name, s.filter_subject, s.external.api, s.external.deliver) for s in config.sources] == [
        ("copnet-share-north", "copnet-share.north.>", "$JS.north.API", "copnet-deliver.north"),
        ("copnet-share-south", "copnet-share.south.>", "$JS.south.API", "copnet-deliver.south")]


def test_a_stand_in_share_stream_in_the_same_account_is_sourced_without_a_domain():
    [source] = statewide_stream_config(["north"], external=False).sources
    assert source.external is None and source.filter_subject == "copnet-share.north.>"
