"""JSON documents <-> protobuf `Struct` (plugin settings and their schemas travel as Structs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format, struct_pb2


def plain(value: Any) -> Any:
    """JSON from a Struct: numbers that are whole become ints again (Struct keeps only doubles)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def struct_to_dict(struct: struct_pb2.Struct) -> dict:
    return plain(json_format.MessageToDict(struct))


def dict_to_struct(document: Mapping[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(dict(document))
    return struct
