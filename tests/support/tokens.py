"""Token keys for tests that run no stack: one key set per test process, in a temporary directory,
and the signers and verifier made from it the way a process makes them from its settings."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from copnet.kernel import auth, token_keys
from copnet.kernel.settings import SERVICE_NAMES, Settings, load_settings


@functools.cache
def key_files() -> token_keys.KeyFiles:
    directory = Path(tempfile.mkdtemp(prefix="copnet-test-keys-"))
    return token_keys.make_key_set(directory, SERVICE_NAMES)


def settings(service: str | None = None, **overrides) -> Settings:
    """Settings that verify this key set's tokens (and sign as `service` when given)."""
    files = key_files()
    values = dict(token_public_keys_file=files.public, token_issuer_key_file=files.issuer)
    if service is not None:
        values["service_key_file"] = files.service(service)
    return load_settings(**{**values, **overrides})


def person_token(role: str, org: str = "", person: str = "tester", *, region: str = "local",
                 ttl_seconds: int = auth.DEFAULT_TOKEN_SECONDS) -> str:
    """A person's token; a lifetime of 0 or less gives one that has already expired."""
    issuer = token_keys.issuer(settings(region=region))
    if ttl_seconds <= 0:
        return issuer.sign(person, [{"role": role, "org": org}], ttl_seconds)
    return auth.issue_token(issuer, person, role, org, ttl_seconds=ttl_seconds)


def service_token(service: str, *, region: str = "local") -> str:
    return auth.service_token(token_keys.service_signer(settings(service, region=region), service))


def verifier(region: str = "local") -> auth.Verifier:
    return token_keys.verifier(settings(region=region))
