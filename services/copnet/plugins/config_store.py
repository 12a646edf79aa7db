"""Pure rules for plugin settings: secrets write-only, round trips through protobuf Structs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr

from copnet.kernel.structs import dict_to_struct, plain, struct_to_dict  # noqa: F401 (used from here)

AUTO_DISABLE = "copnet:auto-disable"


def is_marker(value: Any) -> bool:
    """`{"set": true|false}`: what a read shows for a secret, sent back unchanged."""
    return isinstance(value, dict) and set(value) == {"set"} and isinstance(value["set"], bool)


def redact(settings: Mapping[str, Any], secret_fields: Iterable[str]) -> dict:
    """The settings with each secret field replaced by {"set": bool}."""
    shown = dict(settings)
    for name in secret_fields:
        shown[name] = {"set": shown.get(name) not in (None, "")}
    return shown


def merge_secrets(sent: Mapping[str, Any], stored: Mapping[str, Any], secret_fields: Iterable[str]) -> dict:
    """What to validate: `sent`, where a secret left out (or sent back as its marker) keeps its stored value."""
    merged = dict(sent)
    for name in secret_fields:
        if name not in merged or is_marker(merged[name]):
            merged.pop(name, None)
            if stored.get(name) not in (None, ""):
                merged[name] = stored[name]
    return merged


def _reveal(value: Any) -> Any:
    if isinstance(value, (SecretStr, SecretBytes)):
        secret = value.get_secret_value()
        return secret.decode() if isinstance(secret, bytes) else secret
    if isinstance(value, BaseModel):
        return {key: _reveal(getattr(value, key)) for key in value.model_fields_set}
    if isinstance(value, dict):
        return {key: _reveal(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_reveal(item) for item in value]
    return value


def stored_settings(model: BaseModel | None) -> dict:
    """The validated settings as stored: the fields the caller set, normalised, secrets revealed."""
    if model is None:
        return {}
    json_ready = model.model_dump(mode="json", exclude_unset=True)
    for name in json_ready:
        value = getattr(model, name)
        if _contains_secret(value):
            json_ready[name] = _reveal(value)
    return json_ready


def _contains_secret(value: Any) -> bool:
    if isinstance(value, (SecretStr, SecretBytes)):
        return True
    if isinstance(value, BaseModel):
        return any(_contains_secret(getattr(value, key)) for key in value.model_fields_set)
    if isinstance(value, dict):
        return any(_contains_secret(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_contains_secret(item) for item in value)
    return False


