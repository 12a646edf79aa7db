"""Student ids pseudonymised with the region's key: the same id and key give the same pseudonym,
another key another one, and the key file is read as the region wrote it."""

from __future__ import annotations

import hashlib
import os
import stat

import pyarrow as pa
import pytest
from copnet.kernel.settings import ConfigError
from copnet.reflection.datasets.pseudonyms import Pseudonymiser, make_key_file, read_key

KEY = bytes(range(32))


def test_the_same_id_gives_the_same_pseudonym_and_another_key_another():
    ids = pa.array(["1000000001", " 1000000001 ", "1000000002", None])
    first = Pseudonymiser(KEY).column(ids).to_pylist()
    assert first[0] == first[1] != first[2] and first[3] is None
    assert Pseudonymiser(KEY).column(ids).to_pylist() == first
    other = Pseudonymiser(bytes(reversed(KEY))).column(ids).to_pylist()
    assert not set(other[:3]) & set(first[:3])


def test_a_pseudonym_is_blake2b_keyed_with_the_region_key():
    expected = hashlib.blake2b(b"1000000001", key=KEY, digest_size=16).hexdigest()
    assert Pseudonymiser(KEY).one("1000000001") == expected
    assert "1000000001" not in expected


def test_a_short_key_is_refused_and_never_shown():
    with pytest.raises(ValueError):
        Pseudonymiser(b"short")
    assert "00" not in repr(Pseudonymiser(KEY))


def test_a_key_file_is_made_once_owner_only_and_read_back(tmp_path):
    path = make_key_file(tmp_path / "keys" / "pseudonym.key")
    key = read_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert make_key_file(path) == path and read_key(path) == key  # kept, never replaced


def test_a_missing_or_short_key_file_names_the_setting(tmp_path):
    with pytest.raises(ConfigError, match="COPNET_PSEUDONYM_KEY_FILE"):
        read_key(None)
    (tmp_path / "short").write_text("abcd\n")
    with pytest.raises(ConfigError, match="COPNET_PSEUDONYM_KEY_FILE"):
        read_key(tmp_path / "short")
