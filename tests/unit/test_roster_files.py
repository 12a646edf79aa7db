"""`copnet roster import` reading a bundle: hostile zips, oversized bundles, names that collide and
files that are not text are refused (or left out) with a message, never a traceback."""

from __future__ import annotations

import zipfile
import zlib

import pytest
from typer.testing import CliRunner

from copnet.cli.plugins import RosterFiles
from copnet.cli.root import app
from copnet.kernel.limits import ROSTER_IMPORT_MAX_BODY_BYTES

ORGS = "sourcedId,status,name,type\nd1,,Unified,district\n"
USERS = "sourcedId,givenName,familyName\nt1,Pat,Ames\n"
# Nothing listens there: a test that reaches the network fails with "cannot reach".
NOWHERE = "http://127.0.0.1:9"


def import_bundle(path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["roster", "import", "coe", "--source", "oneroster", str(path),
                                      "--gateway", NOWHERE, "--token", "t"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def zip_of(path, members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def patched(path, find: bytes, replace: bytes, count: int = -1):
    data = path.read_bytes()
    assert find in data
    path.write_bytes(data.replace(find, replace, count))
    return path


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    # 256 MiB of one line compress to a few hundred KB: the member's declared size refuses it.
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("users.csv", "w", force_zip64=True) as member:
            line = b"t1,active,,true,s1,teacher,u,,Pat,Ames,,,pat@x.org,,,,,\n" * 16384
            for _ in range(256 << 20 // len(line)):
                member.write(line)
        archive.writestr("orgs.csv", ORGS)
    assert bomb.stat().st_size < 2 << 20
    code, output = import_bundle(bomb)
    assert code == 2 and "larger than one import takes (16 MiB" in output and "users.csv" in output


def test_a_member_larger_than_its_header_claims_is_stopped_at_the_limit(tmp_path):
    # A lying directory entry: unpacking counts the bytes as they come out.
    files = RosterFiles(zip_of(tmp_path / "liar.zip", {"users.csv": b"x" * 5000}), limit=4096)
    with pytest.raises(ValueError, match="larger than one import takes"):
        files.read()


def header_fields(archive, local_offset: int, central_offset: int, value: int) -> None:
    """Set a two-byte field of the (only) member's local header and central directory entry."""
    data = bytearray(archive.read_bytes())
    for signature, offset in ((b"PK\x03\x04", local_offset), (b"PK\x01\x02", central_offset)):
        at = data.index(signature) + offset
        data[at:at + 2] = value.to_bytes(2, "little")
    archive.write_bytes(bytes(data))


def test_an_encrypted_member_is_refused_by_name(tmp_path):
    archive = zip_of(tmp_path / "locked.zip", {"users.csv": USERS.encode()}, zipfile.ZIP_STORED)
    header_fields(archive, 6, 8, 0x1)  # general purpose flag bit 0: encrypted
    code, output = import_bundle(archive)
    assert code == 2 and "users.csv is encrypted" in output


def test_an_unknown_compression_method_is_refused_by_name(tmp_path):
    archive = zip_of(tmp_path / "imploded.zip", {"users.csv": USERS.encode()}, zipfile.ZIP_STORED)
    header_fields(archive, 8, 10, 6)  # compression method 0 (stored) -> 6 (implode)
    code, output = import_bundle(archive)
    assert code == 2 and "users.csv is compressed with method 6" in output


def test_a_member_with_a_bad_crc_is_refused(tmp_path):
    archive = zip_of(tmp_path / "crc.zip", {"users.csv": USERS.encode()}, zipfile.ZIP_STORED)
    patched(archive, b"Pat,Ames", b"Pat,Amez", count=1)
    code, output = import_bundle(archive)
    assert code == 2 and "users.csv cannot be unpacked" in output and "CRC" in output


def test_a_member_with_corrupt_deflate_data_is_refused(tmp_path):
    content = (USERS * 50).encode()
    archive = zip_of(tmp_path / "deflate.zip", {"users.csv": content})
    compressed = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = compressed.compress(content) + compressed.flush()
    patched(archive, stream[:8], bytes(8 * [0xFF]), count=1)
    code, output = import_bundle(archive)
    assert code == 2 and "users.csv cannot be unpacked" in output


@pytest.mark.parametrize("names", [("export/users.csv", "old/users.csv"), ("users.csv", "USERS.CSV")])
def test_two_members_of_the_same_name_are_refused(tmp_path, names):
    archive = zip_of(tmp_path / "twice.zip", {"orgs.csv": ORGS.encode(), names[0]: USERS.encode(),
                                              names[1]: USERS.encode()})
    code, output = import_bundle(archive)
    assert code == 2 and "have the same name" in output
    assert all(name in output for name in names)


def test_a_file_that_is_not_utf8_is_left_out_with_a_warning_and_the_rest_is_read(tmp_path):
    (tmp_path / "orgs.csv").write_text(ORGS)
    (tmp_path / "users.csv").write_text(USERS)
    (tmp_path / "demographics.csv").write_bytes("sourcedId,name\n1,Müller\n".encode("latin-1"))
    files = RosterFiles(tmp_path).read()
    assert sorted(files.texts) == ["orgs.csv", "users.csv"]
    [left_out] = files.left_out
    assert left_out.startswith("demographics.csv: not UTF-8 text")


def test_a_bundle_whose_request_would_pass_the_limit_is_refused_before_sending(tmp_path):
    # Within the limit as files, over it as JSON: every quote is sent as \" (two bytes).
    (tmp_path / "users.csv").write_bytes(b'"' * (ROSTER_IMPORT_MAX_BODY_BYTES * 3 // 4))
    code, output = import_bundle(tmp_path)
    assert code == 2 and "over the 16 MiB one import takes" in output and "cannot reach" not in output
