"""An importer plugin is read through the plugin host: its batches come through, and a plugin that
raises, says the file is unusable or runs out of time fails the import with a reason that shows
its category (or the file's problem), never its own text."""

from __future__ import annotations

import io
import time
import types

import pytest
from copnet.kernel.plugin_host import PluginHost
from copnet.pluginapi import AssessmentBatch, AssessmentFile, UnusableInput
from copnet.reflection.datasets.importing import ImportFailed
from copnet.reflection.datasets.jobs import Job, plugin_batches
from copnet.reflection.datasets.organizations import Organization

ORGANIZATION = Organization("alameda-coe", "county_office", "bay-region", "01", ("ca", "bay-region"))


class Importer:
    key, title, kind, description = "test-scores", "Test scores", "student_scores", ""

    def __init__(self, read):
        self.read = read


def plugin_host() -> PluginHost:
    host = PluginHost(timeout_seconds=1.0)
    plugin = types.SimpleNamespace(COPNET_HOOKSPEC_VERSION=2, COPNET_ENABLED_BY_DEFAULT=True,
                                   __doc__="Importers for a test.")
    host.register(plugin, "test-importers")
    return host


def batches(read, deadline_seconds: float = 10.0) -> list:
    importer = Importer(read)
    job = Job("ds-1", "student_scores", "test-importers", importer, ORGANIZATION, None, "scores.csv", 3)
    file = AssessmentFile("scores.csv", io.BytesIO(b"a,b"), 3)
    return list(plugin_batches(plugin_host(), job, file, time.monotonic() + deadline_seconds))


def test_the_importers_batches_come_through_in_order():
    def read(file, settings):
        yield AssessmentBatch(rows=None, bytes_read=1)
        yield AssessmentBatch(rows=None, bytes_read=3)

    assert [batch.bytes_read for batch in batches(read)] == [1, 3]


def test_a_raising_importer_fails_the_import_with_its_category_only():
    def read(file, settings):
        yield AssessmentBatch(rows=None)
        raise RuntimeError("connection string with a password in it")

    with pytest.raises(ImportFailed) as failed:
        batches(read)
    assert str(failed.value) == "scores.csv: the importer test-scores failed (error)"


def test_an_unusable_file_fails_with_the_importers_message():
    def read(file, settings):
        raise UnusableInput("scores.csv has no ScaleScore column")
        yield

    with pytest.raises(ImportFailed, match=r"^scores.csv: scores.csv has no ScaleScore column$"):
        batches(read)


def test_an_importer_past_the_deadline_fails_the_import():
    def read(file, settings):
        time.sleep(5)
        yield AssessmentBatch(rows=None)

    with pytest.raises(ImportFailed, match=r"failed \(timed out\)"):
        batches(read, deadline_seconds=0.3)
