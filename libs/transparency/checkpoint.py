"""Signed checkpoints: a log's size and Merkle root, signed with the service's Ed25519 key.

A checkpoint is a signed note, as Go's checksum database and most transparency logs write
them: the body is three lines — the log's origin (`tanhui/<service>`), the tree size in
decimal, the root hash in standard base64 — then a blank line, then one signature line:

    — <key name> <base64(key id (4 bytes) || Ed25519 signature (64 bytes))>

The signature covers the body's bytes, its last newline included. The key id is the first
four bytes of SHA-256(key name || "\\n" || 0x01 || public key); a verifier is published as the
text `<key name>+<key id, 8 hex digits>+<base64(0x01 || public key)>`, which is all an auditor
needs (`GET /v1/ledger/key`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = b"\x01"  # the signed-note algorithm byte
DASH = "\u2014"  # the signature line's em dash


class CheckpointInvalid(ValueError):
    """Not a checkpoint signed by the expected key."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> bytes:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n".encode()


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    name: str
    public: bytes  # the raw 32-byte Ed25519 public key

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.public)

    def text(self) -> str:
        encoded = base64.b64encode(ED25519 + self.public).decode()
        return f"{self.name}+{self.id.hex()}+{encoded}"

    @classmethod
    def parse(cls, text: str) -> Verifier:
        try:
            name, hex_id, encoded = text.strip().split("+", 2)  # base64 may hold a +
            raw = base64.b64decode(encoded, validate=True)
        except (ValueError, binascii.Error):
            raise CheckpointInvalid("a verifier is <name>+<key id>+<base64 key>") from None
        if raw[:1] != ED25519 or len(raw) != 33:
            raise CheckpointInvalid("the verifier's key is not an Ed25519 key")
        verifier = cls(name, raw[1:])
        if verifier.id.hex() != hex_id:
            raise CheckpointInvalid("the verifier's key id does not match its key")
        return verifier

    def open(self, note: str) -> Checkpoint:
        """The checkpoint `note` carries, once its signature by this key is checked."""
        body, separator, signatures = note.partition("\n\n")
        if not separator:
            raise CheckpointInvalid("a checkpoint has a body, a blank line and signatures")
        for line in signatures.splitlines():
            dash, _, rest = line.partition(" ")
            name, _, encoded = rest.partition(" ")
            if dash != DASH or name != self.name:
                continue
            try:
                raw = base64.b64decode(encoded, validate=True)
            except binascii.Error:
                continue
            if raw[:4] != self.id:
                continue
            try:
                Ed25519PublicKey.from_public_bytes(self.public).verify(
                    raw[4:], (body + "\n").encode()
                )
            except InvalidSignature:
                raise CheckpointInvalid(f"the signature of {self.name} does not verify") from None
            return _parse_body(body)
        raise CheckpointInvalid(f"no signature of {self.name} on the checkpoint")


def _parse_body(body: str) -> Checkpoint:
    lines = body.split("\n")
    if len(lines) < 3 or not lines[1].isdigit():
        raise CheckpointInvalid("a checkpoint's body is its origin, size and root hash")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except binascii.Error:
        raise CheckpointInvalid("the root hash is not base64") from None
    return Checkpoint(lines[0], int(lines[1]), root)


class Signer:
    def __init__(self, name: str, key: Ed25519PrivateKey) -> None:
        self.name = name
        self._key = key
        public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.verifier = Verifier(name, public)

    def sign(self, checkpoint: Checkpoint) -> str:
        body = checkpoint.body()
        signature = base64.b64encode(self.verifier.id + self._key.sign(body)).decode()
        return f"{body.decode()}\n{DASH} {self.name} {signature}\n"


def load_key(path: Path, create: bool) -> Ed25519PrivateKey:
    """The Ed25519 key in `path` (PKCS#8 PEM); with `create` (development), made there when
    the file does not exist."""
    if path.exists() or not create:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise CheckpointInvalid(f"{path} does not hold an Ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return key
