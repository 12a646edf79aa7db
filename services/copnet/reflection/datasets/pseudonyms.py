"""Student ids pseudonymised at the door: a keyed BLAKE2b hash (BLAKE2's own keyed mode, a MAC)
whose key is the region's write-only secret.

The same id gives the same pseudonym in every import of the region (so growth and enrollments
match students across files), a different one in another region, and without the key nobody
can test a guessed id against a pseudonym. No API reads the key; only this process holds it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from copnet.kernel.settings import ConfigError

if TYPE_CHECKING:  # pyarrow is imported where columns are hashed: `copnet up` makes keys without it
    import pyarrow as pa

# Key bytes BLAKE2b takes at most, and the fewest a region's key may have.
MAX_KEY_BYTES = 64
MIN_KEY_BYTES = 32
# 128 bits: no two of a region's students collide in practice, and half the size of a SHA-256.
DIGEST_BYTES = 16


class Pseudonymiser:
    def __init__(self, key: bytes):
        if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
            raise ValueError(f"a pseudonym key has {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes, not {len(key)}")
        # The state after the key block: each id's hash continues a copy of it (what blake2b(id,
        # key=key) computes, without processing the key block again for every one of a million ids).
        self._keyed = hashlib.blake2b(key=key, digest_size=DIGEST_BYTES)

    def __repr__(self) -> str:
        return "Pseudonymiser(<key withheld>)"

    def one(self, student_id: str) -> str:
        state = self._keyed.copy()
        state.update(student_id.strip().encode())
        return state.hexdigest()

    def column(self, student_ids: pa.Array | pa.ChunkedArray) -> pa.Array:
        """Each id's pseudonym (hex); nulls stay null. Ids are trimmed first: ` 123` is `123`."""
        import pyarrow as pa
        import pyarrow.compute as pc

        keyed = self._keyed
        pseudonyms: list[str | None] = []
        append = pseudonyms.append
        for value in pc.utf8_trim_whitespace(student_ids).cast(pa.binary()).to_pylist():
            if value is None:
                append(None)
                continue
            state = keyed.copy()
            state.update(value)
            append(state.hexdigest())
        return pa.array(pseudonyms, type=pa.string())


def read_key(path: Path | None) -> bytes:
    """The region's key from its file (COPNET_PSEUDONYM_KEY_FILE): raw bytes, or hex text."""
    if path is None:
        raise ConfigError("COPNET_PSEUDONYM_KEY_FILE: required to import student-level data (a file of at "
                          f"least {MIN_KEY_BYTES} random bytes; `copnet up` makes one)")
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise ConfigError(f"COPNET_PSEUDONYM_KEY_FILE: cannot be read ({error.strerror})") from None
    text = raw.strip()
    try:
        key = bytes.fromhex(text.decode("ascii")) if text else b""
    except (UnicodeDecodeError, ValueError):
        key = raw
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise ConfigError(f"COPNET_PSEUDONYM_KEY_FILE: must hold {MIN_KEY_BYTES} to {MAX_KEY_BYTES} bytes "
                          f"(or as many as hex), it holds {len(key)}")
    return key


def make_key_file(path: Path) -> Path:
    """A new random key (hex) at `path`, readable by its owner only; an existing key is kept."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(MIN_KEY_BYTES) + "\n")
    return path
