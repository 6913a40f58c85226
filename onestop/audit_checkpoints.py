"""Signing the audit chain's head (beat, every AUDIT_CHECKPOINT_SECONDS) and what auditors see
of the checkpoints. The checkpoint anchors whatever row the head points at, whichever writer put
it there: it depends only on the chain's rows and head, never on how they were appended."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from .audit import GENESIS_HASH, audit_chain_verify_since, audit_unlinked, consistent_read
from .audit_chain import audit_chain_link
from .audit_signing import (
    Checkpoint,
    checkpoint_append,
    checkpoint_sign,
    checkpoints_read,
    public_key_text,
    signing_key_load,
    trusted_public_keys,
)
from .models import AuditChainHead, AuditLink

logger = logging.getLogger(__name__)
# The checkpoint lines themselves, as JSON in the log message: a second copy, outside the
# database and the checkpoint file, wherever the logs are shipped.
checkpoint_log = logging.getLogger("onestop.audit.checkpoint")


class ChainNotSigned(Exception):
    """The chain no longer continues the last checkpoint: signing it would vouch for a rewrite."""


def audit_checkpoint_write() -> Checkpoint | None:
    """Sign the chain's head and append the checkpoint to the file and the logs, after checking
    that the rows since the last checkpoint continue it. None when no key is configured
    (outside production only); ChainNotSigned when the chain does not continue it."""
    key = signing_key_load()
    if key is None:
        if settings.PRODUCTION:
            raise ImproperlyConfigured("no audit signing key: set ONESTOP_AUDIT_SIGNING_KEY_FILE (docs/security.md)")
        logger.warning("audit checkpoint skipped: no signing key (ONESTOP_AUDIT_SIGNING_KEY_FILE)")
        return None
    if settings.AUDIT_PUBLIC_KEYS and public_key_text(key) not in settings.AUDIT_PUBLIC_KEYS:
        raise ImproperlyConfigured("the audit signing key's public key is not in ONESTOP_AUDIT_PUBLIC_KEY")
    path = settings.AUDIT_CHECKPOINT_FILE
    last = checkpoint_last(path)
    audit_chain_link()  # what has committed by now is signed now, not at the next checkpoint
    after_seq, after_hash = (last.seq, last.hash) if last else (0, GENESIS_HASH)
    with consistent_read(durable=True):
        head = AuditChainHead.objects.filter(pk=1).values_list("last_seq", "last_hash").first() or (0, GENESIS_HASH)
        broken = audit_chain_verify_since(after_seq=after_seq, after_hash=after_hash, head=head)
    if broken is not None:
        logger.error("audit checkpoint refused: the chain is broken at seq=%s: %s", broken.seq, broken.reason)
        raise ChainNotSigned(f"the chain is broken at seq={broken.seq}: {broken.reason}")
    unlinked = audit_unlinked()
    if unlinked.count:
        logger.warning(
            "audit rows not linked into the chain: %s written before %s, the oldest at %s (is the chainer running?)",
            unlinked.count, timezone.localtime() - unlinked.older_than, unlinked.oldest,
        )  # fmt: skip
    at = timezone.localtime().isoformat(timespec="seconds")
    checkpoint = checkpoint_sign(seq=head[0], hash_=head[1], at=at, key=key)
    checkpoint_append(path, checkpoint)
    checkpoint_log.info(checkpoint.as_line())
    return checkpoint


def checkpoint_last(path: Path) -> Checkpoint | None:
    """The file's last checkpoint that verifies (among its last lines: the file only grows)."""
    checkpoints = checkpoints_read(path, trusted_public_keys(), last=50).checkpoints
    return checkpoints[-1] if checkpoints else None


@dataclass(frozen=True)
class CheckpointView:
    checkpoint: Checkpoint | None  # None: a line that is not a valid checkpoint
    problem: str
    row: str  # "matches", "differs", "missing" (the database's row at its seq), or ""


@dataclass(frozen=True)
class CheckpointsOverview:
    lines: list[CheckpointView]  # newest first
    head_seq: int
    last_at: datetime | None
    stale: bool  # no checkpoint, or none for two intervals
    trusted_keys: list[str]
    unlinked: int  # rows the chainer has not linked AUDIT_UNLINKED_FINDING_SECONDS after they were written


def audit_checkpoints_overview(*, limit: int = 50) -> CheckpointsOverview:
    """The last checkpoints as an auditor sees them: each signature, and whether the database's
    row at its seq still has its hash."""
    recent = checkpoints_read(settings.AUDIT_CHECKPOINT_FILE, trusted_public_keys(), last=limit)
    seqs = {c.seq for c in recent.checkpoints}
    hashes = dict(AuditLink.objects.filter(seq__in=seqs).values_list("seq", "row_hash"))
    views = [CheckpointView(None, problem, "") for problem in recent.problems]
    for checkpoint in recent.checkpoints:
        row = hashes.get(checkpoint.seq, GENESIS_HASH if checkpoint.seq == 0 else None)
        state = "missing" if row is None else "matches" if row == checkpoint.hash else "differs"
        views.append(CheckpointView(checkpoint, "", state))
    views.sort(key=lambda v: v.checkpoint.at if v.checkpoint else "", reverse=True)
    last_at = datetime.fromisoformat(recent.checkpoints[-1].at) if recent.checkpoints else None
    window = timedelta(seconds=2 * settings.AUDIT_CHECKPOINT_SECONDS)
    head = AuditChainHead.objects.filter(pk=1).values_list("last_seq", flat=True).first() or 0
    return CheckpointsOverview(
        lines=views,
        head_seq=head,
        last_at=last_at,
        stale=last_at is None or timezone.now() - last_at > window,
        trusted_keys=sorted(trusted_public_keys()),
        unlinked=audit_unlinked().count,
    )
