"""The Ed25519 keys that sign bearer tokens: made, written, read, and turned into signers and a
verifier from a process's settings.

Who holds what (docs/architecture.md, "Identity and access"):

- the person-token issuer key (`people`): only whoever issues people's tokens (the operator's
  `copnet token issue`, the demo loader); never a service process;
- one key per service (`service:<name>`): that service only, for its own service tokens;
- the public keys of all of them, as a JWKS file: every process, to verify.

A key's id (`kid`) is `<signer>/<thumbprint>`: the signer (`people` or `service:<name>`) says
which subjects the key may sign for, the RFC 7638 thumbprint tells two keys of one signer apart
(a rotation lists both in the public file until the old key's last token has expired).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from copnet.kernel.auth import PEOPLE_SIGNER, SERVICE_SUBJECT_PREFIX, Signer, Verifier
from copnet.kernel.settings import ConfigError, Settings

# The local stack's keys (`copnet up`, the tests), under the data directory.
LOCAL_DIRECTORY = "keys"
ISSUER_FILE = "issuer.pem"
PUBLIC_KEYS_FILE = "public-keys.json"


def service_signer_name(service: str) -> str:
    return f"{SERVICE_SUBJECT_PREFIX}{service}"


def service_key_file(service: str) -> str:
    return f"service-{service}.pem"


def key_id(signer: str, public_key: Ed25519PublicKey) -> str:
    """`<signer>/<RFC 7638 thumbprint, first 16 characters>`."""
    x = _b64(public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    return f"{signer}/{_b64(hashlib.sha256(canonical.encode()).digest())[:16]}"


def public_jwk(signer: str, public_key: Ed25519PublicKey) -> dict:
    x = _b64(public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "use": "sig", "alg": "EdDSA",
            "kid": key_id(signer, public_key)}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# -- files ---------------------------------------------------------------------------------------
def write_private_key(path: Path, key: Ed25519PrivateKey) -> None:
    """PKCS#8 PEM, readable by its owner only; never overwrites a key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def read_private_key(path: Path, variable: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except OSError as error:
        raise ConfigError(f"{variable}: cannot read {path} ({error.strerror or error})") from None
    except (ValueError, TypeError):
        raise ConfigError(f"{variable}: {path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{variable}: {path} is not an Ed25519 key (make keys with `copnet token keys`)")
    return key


def own_private_key(path: Path) -> Ed25519PrivateKey:
    """The key at `path`, made there first if there is none."""
    if not path.exists():
        try:
            write_private_key(path, Ed25519PrivateKey.generate())
        except FileExistsError:
            pass  # made meanwhile by another process starting on the same data directory
    return read_private_key(path, str(path))


def write_public_keys(path: Path, jwks: list[dict]) -> None:
    """The JWKS file, replaced in one step (a process starting meanwhile reads the old or the new)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(json.dumps({"keys": jwks}, indent=2) + "\n")
    os.replace(partial, path)


def read_public_keys(path: Path, variable: str = "COPNET_TOKEN_PUBLIC_KEYS_FILE") -> dict[str, Ed25519PublicKey]:
    """kid -> public key, from a JWKS file of Ed25519 keys whose kids name their signer."""
    try:
        document = json.loads(Path(path).read_text())
        keys = jwt.PyJWKSet.from_dict(document).keys
    except OSError as error:
        raise ConfigError(f"{variable}: cannot read {path} ({error.strerror or error})") from None
    except (ValueError, jwt.PyJWKSetError, jwt.PyJWKError) as error:
        raise ConfigError(f"{variable}: {path} is not a JWKS file ({error})") from None
    found: dict[str, Ed25519PublicKey] = {}
    for key in keys:
        if not isinstance(key.key, Ed25519PublicKey) or not key.key_id:
            raise ConfigError(f"{variable}: {path} holds a key that is not Ed25519 or has no kid")
        signer = key.key_id.rpartition("/")[0]
        if signer != PEOPLE_SIGNER and not signer.startswith(SERVICE_SUBJECT_PREFIX):
            raise ConfigError(f"{variable}: key {key.key_id!r} names no signer "
                              f"('{PEOPLE_SIGNER}/...' or '{SERVICE_SUBJECT_PREFIX}<name>/...')")
        found[key.key_id] = key.key
    return found


# -- a whole key set -------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyFiles:
    """Where a key set lives: the issuer's and each service's private key, and the public file."""

    directory: Path

    @property
    def issuer(self) -> Path:
        return self.directory / ISSUER_FILE

    def service(self, name: str) -> Path:
        return self.directory / service_key_file(name)

    @property
    def public(self) -> Path:
        return self.directory / PUBLIC_KEYS_FILE


def make_key_set(directory: Path, services: tuple[str, ...], issuer_key: Path | None = None) -> KeyFiles:
    """The issuer's and every service's key in `directory` (made where missing, kept otherwise),
    and the public keys file written again from them. `issuer_key`: an issuer key kept elsewhere
    (COPNET_TOKEN_ISSUER_KEY_FILE) whose public half is listed instead of the directory's."""
    files = KeyFiles(Path(directory))
    issuer_private = (read_private_key(issuer_key, "COPNET_TOKEN_ISSUER_KEY_FILE") if issuer_key is not None
                      else own_private_key(files.issuer))
    jwks = [public_jwk(PEOPLE_SIGNER, issuer_private.public_key())]
    jwks += [public_jwk(service_signer_name(name), own_private_key(files.service(name)).public_key())
             for name in services]
    write_public_keys(files.public, jwks)
    return files


def local_key_files(settings: Settings) -> KeyFiles:
    return KeyFiles(settings.data_dir.resolve() / LOCAL_DIRECTORY)


def local_key_set(settings: Settings, services: tuple[str, ...]) -> KeyFiles:
    """The local stack's keys (`copnet up`, the tests): made in the data directory at the first
    start and kept; people's tokens are those of COPNET_TOKEN_ISSUER_KEY_FILE when it is set."""
    return make_key_set(local_key_files(settings).directory, services, settings.token_issuer_key_file)


# -- from settings -------------------------------------------------------------------------------
def verifier(settings: Settings) -> Verifier:
    """What every process verifies tokens with: the public keys, this instance's region, the cap."""
    if settings.token_public_keys_file is None:
        raise ConfigError("COPNET_TOKEN_PUBLIC_KEYS_FILE: required (the JWKS file of the token signing keys; "
                          "`copnet token keys` makes one)")
    return Verifier(read_public_keys(settings.token_public_keys_file), settings.region,
                    settings.token_max_seconds)


def service_signer(settings: Settings, service: str) -> Signer:
    """What `service` signs its own service tokens with (subject `service:<service>` only)."""
    if settings.service_key_file is None:
        raise ConfigError(f"COPNET_SERVICE_KEY_FILE: required (the {service} service's own token signing key)")
    key = read_private_key(settings.service_key_file, "COPNET_SERVICE_KEY_FILE")
    return Signer(key, key_id(service_signer_name(service), key.public_key()), settings.region,
                  settings.token_max_seconds)


def issuer(settings: Settings) -> Signer:
    """What people's tokens are signed with: COPNET_TOKEN_ISSUER_KEY_FILE, or the local stack's
    issuer key in the data directory (made on first use)."""
    if settings.token_issuer_key_file is not None:
        key = read_private_key(settings.token_issuer_key_file, "COPNET_TOKEN_ISSUER_KEY_FILE")
    else:
        key = own_private_key(local_key_files(settings).issuer)
    return Signer(key, key_id(PEOPLE_SIGNER, key.public_key()), settings.region, settings.token_max_seconds)
