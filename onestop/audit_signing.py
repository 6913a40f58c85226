"""Signed checkpoints of the audit chain, kept outside the database.

A checkpoint says "at this time the chain's head was row `seq`, whose hash was `hash`", signed
with an Ed25519 key that the database never holds. Checkpoints are JSON lines appended to a
file (and written to the logs); `audit_verify` checks the chain against them, so whoever can
rewrite the database (its owner, a superuser) still cannot rewrite what a checkpoint covers
without the key. No database access here: onestop/audit_checkpoints.py does that part.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

CHECKPOINT_TYPE = "onestop.audit.checkpoint"


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str  # ISO 8601, Asia/Tokyo
    key: str  # the signer's public key, raw, base64
    sig: str  # Ed25519 over signed_bytes(), base64
    line: int = 0  # where it was read from the file (1-based), 0 when not read

    def signed_bytes(self) -> bytes:
        return _signed_bytes(self.seq, self.hash, self.at, self.key)

    def as_line(self) -> str:
        body = {"type": CHECKPOINT_TYPE, "seq": self.seq, "hash": self.hash, "at": self.at}
        return json.dumps({**body, "key": self.key, "sig": self.sig}, separators=(",", ":"))


def _signed_bytes(seq: int, hash_: str, at: str, key: str) -> bytes:
    body = {"type": CHECKPOINT_TYPE, "seq": seq, "hash": hash_, "at": at, "key": key}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """A public key as onestop writes it (ONESTOP_AUDIT_PUBLIC_KEY, checkpoints): raw, base64."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def checkpoint_sign(*, seq: int, hash_: str, at: str, key: Ed25519PrivateKey) -> Checkpoint:
    public = public_key_text(key)
    signature = key.sign(_signed_bytes(seq, hash_, at, public))
    return Checkpoint(seq=seq, hash=hash_, at=at, key=public, sig=base64.b64encode(signature).decode())


def checkpoint_signature_valid(checkpoint: Checkpoint) -> bool:
    try:
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(checkpoint.key, validate=True))
        public.verify(base64.b64decode(checkpoint.sig, validate=True), checkpoint.signed_bytes())
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


# --- keys ---------------------------------------------------------------------------------------
def signing_key_load() -> Ed25519PrivateKey | None:
    """The signing key from ONESTOP_AUDIT_SIGNING_KEY (PEM text) or ONESTOP_AUDIT_SIGNING_KEY_FILE,
    or None when neither is set (outside production: when the default file does not exist)."""
    pem = settings.AUDIT_SIGNING_KEY
    if not pem:
        path = Path(settings.AUDIT_SIGNING_KEY_FILE) if settings.AUDIT_SIGNING_KEY_FILE else None
        if path is None or (not path.exists() and not settings.AUDIT_SIGNING_KEY_FILE_REQUIRED):
            return None
        pem = path.read_text()
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured("the audit signing key is not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured("the audit signing key must be an Ed25519 key")
    return key


def trusted_public_keys() -> frozenset[str]:
    """The keys whose checkpoints are believed: ONESTOP_AUDIT_PUBLIC_KEY (several, comma-separated,
    while a key is being replaced) and, outside production, the signing key's own."""
    trusted = set(settings.AUDIT_PUBLIC_KEYS)
    if not settings.AUDIT_PUBLIC_KEYS or not settings.PRODUCTION:
        key = signing_key_load()
        if key is not None:
            trusted.add(public_key_text(key))
    return frozenset(trusted)


def signing_key_create(path: Path) -> Ed25519PrivateKey:
    """A new signing key in `path` (PEM, readable by its owner only); never overwrites one."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    return key


# --- the checkpoint file ------------------------------------------------------------------------
def checkpoint_append(path: Path, checkpoint: Checkpoint) -> None:
    """Append one line (O_APPEND, under an exclusive lock, synced to disk); never rewrite."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        os.write(descriptor, (checkpoint.as_line() + "\n").encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass(frozen=True)
class CheckpointFile:
    checkpoints: list[Checkpoint]  # the lines that verify, in file order
    problems: list[str]  # the lines that do not, each said why


def checkpoints_read(path: Path, trusted: frozenset[str], *, last: int | None = None) -> CheckpointFile:
    """Every line of the file (or its `last` lines): a checkpoint whose signature verifies with a
    trusted key, or a problem that says why not."""
    checkpoints: list[Checkpoint] = []
    problems: list[str] = []
    if not path.exists():
        return CheckpointFile(checkpoints, problems)
    with path.open(encoding="utf-8", errors="replace") as file:
        lines = deque(enumerate(file, start=1), maxlen=last)  # the whole file is read: it only grows slowly
    for number, text in lines:
        if not text.strip():
            continue
        checkpoint = _parse(text, number)
        if checkpoint is None:
            problems.append(f"line {number}: not a checkpoint")
        elif checkpoint.key not in trusted:
            problems.append(f"line {number}: signed with a key that is not trusted ({checkpoint.key})")
        elif not checkpoint_signature_valid(checkpoint):
            problems.append(f"line {number}: the signature does not verify")
        else:
            checkpoints.append(checkpoint)
    return CheckpointFile(checkpoints, problems)


def _parse(text: str, number: int) -> Checkpoint | None:
    try:
        body: Any = json.loads(text)
    except json.JSONDecodeError:
        return None
    if not isinstance(body, dict) or body.get("type") != CHECKPOINT_TYPE:
        return None
    fields = {"seq": int, "hash": str, "at": str, "key": str, "sig": str}
    if any(type(body.get(name)) is not kind for name, kind in fields.items()):
        return None
    return Checkpoint(**{name: body[name] for name in fields}, line=number)
