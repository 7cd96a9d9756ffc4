"""Signed checkpoints (libs/transparency/checkpoint.py): what one key signs, only its
verifier opens, and any change to the note is refused."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from libs.transparency.checkpoint import (
    Checkpoint,
    CheckpointInvalid,
    Signer,
    Verifier,
    load_key,
)

CHECKPOINT = Checkpoint("tanhui/registry", 1234, hashlib.sha256(b"root").digest())


def test_a_signed_checkpoint_opens_with_the_published_verifier_text() -> None:
    signer = Signer("tanhui/registry", Ed25519PrivateKey.generate())
    note = signer.sign(CHECKPOINT)
    lines = note.splitlines()
    assert lines[:2] == ["tanhui/registry", "1234"] and lines[3] == ""
    assert lines[4].startswith("\u2014 tanhui/registry ")
    verifier = Verifier.parse(signer.verifier.text())
    assert verifier.open(note) == CHECKPOINT
    assert signer.sign(CHECKPOINT) == note  # Ed25519 is deterministic: one note per state


def test_a_changed_note_or_another_key_is_refused() -> None:
    signer = Signer("tanhui/registry", Ed25519PrivateKey.generate())
    note = signer.sign(CHECKPOINT)
    with pytest.raises(CheckpointInvalid, match="does not verify"):
        signer.verifier.open(note.replace("\n1234\n", "\n1235\n"))
    impostor = Signer("tanhui/registry", Ed25519PrivateKey.generate())
    with pytest.raises(CheckpointInvalid, match="no signature"):
        signer.verifier.open(impostor.sign(CHECKPOINT))  # another key id
    with pytest.raises(CheckpointInvalid):
        signer.verifier.open(note.replace("\n\n", "\n"))
    text = signer.verifier.text()
    name, _, key = text.split("+", 2)
    with pytest.raises(CheckpointInvalid, match="key id"):
        Verifier.parse(f"{name}+00000000+{key}")
    with pytest.raises(CheckpointInvalid):
        Verifier.parse("not a verifier")


def test_a_development_key_is_made_once_and_production_never_makes_one(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "registry.pem"
    with pytest.raises(FileNotFoundError):
        load_key(path, create=False)
    made = load_key(path, create=True)
    again = load_key(path, create=False)
    assert Signer("n", made).verifier == Signer("n", again).verifier
    assert path.stat().st_mode & 0o777 == 0o600
