"""Generate Python protobuf/gRPC modules from proto/ into an output root.

Used by `make proto` (output root: services/) and by the staleness test (a temp dir).
"""

from __future__ import annotations

import pathlib
import sys

import grpc_tools
from grpc_tools import protoc

REPO = pathlib.Path(__file__).resolve().parent.parent
PROTO_ROOT = REPO / "proto"
WELL_KNOWN = pathlib.Path(grpc_tools.__file__).parent / "_proto"


def generate(out_root: pathlib.Path) -> list[pathlib.Path]:
    protos = sorted(PROTO_ROOT.rglob("*.proto"))
    out_root.mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{WELL_KNOWN}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *(str(p.relative_to(PROTO_ROOT)) for p in protos),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    # Each versioned package directory needs to be a regular package.
    for proto in protos:
        package_dir = out_root / proto.parent.relative_to(PROTO_ROOT)
        (package_dir / "__init__.py").touch()
    return [p for p in out_root.rglob("*_pb2*.py*")]


if __name__ == "__main__":
    generate(pathlib.Path(sys.argv[1]).resolve())
