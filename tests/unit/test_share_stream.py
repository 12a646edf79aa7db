"""The share stream's configuration: exactly the five share subjects of the region, limits
retention sized by the settings, `discard: new`, file storage, a two-minute duplicate window."""

from __future__ import annotations

from copnet.kernel.settings import load_settings
from copnet.share import stream
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType


def test_the_share_stream_holds_exactly_the_share_subjects_and_refuses_when_full():
    settings = load_settings(region="north", share_max_age_days=45, share_max_bytes=2 * 1024 ** 3)
    config = stream.share_stream_config(settings)
    assert config.name == "copnet-share-north"
    assert config.subjects == [f"copnet-share.north.{kind}" for kind in
                               ("measures", "participation", "catalog", "directory", "cycles")]
    assert (config.retention, config.discard, config.storage) == (RetentionPolicy.LIMITS, DiscardPolicy.NEW,
                                                                  StorageType.FILE)
    assert config.max_age == 45 * 24 * 3600 and config.max_bytes == 2 * 1024 ** 3
    assert config.duplicate_window == 120


def test_without_the_share_accounts_user_the_job_says_so_once_and_goes_on(caplog):
    job = stream.ShareStreamJob(load_settings(region="north", nats_url="nats://127.0.0.1:1"))
    job.run()
    job.run()
    told = [r for r in caplog.records if "must exist" in r.getMessage()]
    assert len(told) == 1 and "copnet-share-north" in told[0].getMessage()
    assert job.ensured_at is None
