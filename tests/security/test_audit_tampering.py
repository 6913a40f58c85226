"""Issue 17, finding 4: the audit chain rewritten by whoever owns its tables. Each attack is done
with raw SQL as a role that owns the audit tables without being a superuser (as a deployment's
owner does); the owner can switch the tables' triggers off, so what catches the rewrite is the
signed checkpoints kept outside the database (docs/security.md, "The audit trail")."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from onestop.audit import AuditEntry, audit_chain_verify, audit_log_many, compute_hash
from onestop.audit_chain import audit_chain_link
from onestop.audit_checkpoints import ChainNotSigned, audit_checkpoint_write
from onestop.audit_signing import checkpoint_sign
from onestop.models import AuditChainHead, AuditEvent
from tests.audit_roles import acting_as, owner_role_make, refusal, run

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def owner() -> str:
    return owner_role_make()


def chain_append(count: int) -> None:
    entries = [AuditEntry(action="record.update", subject_type="thing", subject_id=str(i)) for i in range(count)]
    with transaction.atomic():
        audit_log_many(entries)
    audit_chain_link()  # as the chainer does after the commit


def guards(on: bool) -> None:
    """What the owner may do to its own tables: switch their triggers off (and on again)."""
    for table in ("onestop_auditevent", "onestop_auditlink", "onestop_auditchainhead"):
        run(f"ALTER TABLE {table} {'ENABLE' if on else 'DISABLE'} TRIGGER USER")


def row_hash(seq: int) -> str:
    return AuditEvent.objects.get(seq=seq).row_hash


def head_set(seq: int, hash_: str) -> None:
    run("UPDATE onestop_auditchainhead SET last_seq = %s, last_hash = %s", [seq, hash_])


def verify_refusal() -> str:
    with pytest.raises(CommandError) as caught:
        call_command("audit_verify")
    return str(caught.value)


def test_finding4_a_tail_cut_after_a_checkpoint_is_caught(owner):
    chain_append(5)
    checkpoint = audit_checkpoint_write()
    assert checkpoint is not None and checkpoint.seq == 5
    chain_append(2)  # rows 6 and 7 come after the checkpoint
    with acting_as(owner):
        guards(on=False)
        run("DELETE FROM onestop_auditevent WHERE id IN (SELECT event_id FROM onestop_auditlink WHERE seq >= 4)")
        run("DELETE FROM onestop_auditlink WHERE seq >= 4")
        head_set(3, row_hash(3))
        guards(on=True)
    assert audit_chain_verify() is None  # the links that are left hold: only the checkpoint tells
    refused = verify_refusal()
    assert "audit chain broken at row seq=4: missing" in refused
    assert f"the checkpoint signed at {checkpoint.at} covers the chain up to seq=5" in refused


def test_finding4_a_chain_rehashed_after_a_changed_row_is_caught(owner):
    chain_append(3)
    audit_checkpoint_write()
    chain_append(2)
    audit_checkpoint_write()
    with acting_as(owner):
        guards(on=False)
        # Change row 4, then rehash it and every row after it, and move the head along.
        prev_hash = row_hash(3)
        for row in AuditEvent.objects.filter(seq__gte=4).order_by("seq"):
            row.subject_id = "forged" if row.seq == 4 else row.subject_id
            row.prev_hash = prev_hash
            prev_hash = compute_hash(row)
            run("UPDATE onestop_auditevent SET subject_id = %s WHERE id = %s", [row.subject_id, row.pk])
            run(
                "UPDATE onestop_auditlink SET prev_hash = %s, row_hash = %s WHERE seq = %s",
                [row.prev_hash, prev_hash, row.seq],
            )
        head_set(5, prev_hash)
        guards(on=True)
    assert audit_chain_verify() is None  # every link holds
    refused = verify_refusal()
    # Row 3, checkpointed, still matches: the change lies between it and row 5.
    assert "audit chain broken at row seq=5: does not match the checkpoint signed at" in refused
    assert "a row from seq=4 to seq=5 was changed and the chain after it rehashed" in refused


@pytest.mark.parametrize(
    ("move", "expected"),
    [
        ("forged_hash", "row seq=5: the chain head's hash does not match this row's"),
        ("back", "row seq=4: the chain head was moved back to seq=3; the chain ends at seq=5"),
        ("forward", "row seq=6: missing: the chain head says the chain goes on to seq=9"),
    ],
)
def test_finding4_a_moved_head_is_caught(owner, move, expected):
    chain_append(5)
    audit_checkpoint_write()
    target = {"forged_hash": (5, "f" * 64), "back": (3, row_hash(3)), "forward": (9, "e" * 64)}[move]
    with acting_as(owner):
        guards(on=False)
        head_set(*target)
        guards(on=True)
    assert expected in verify_refusal()


def test_finding4_the_owner_cannot_switch_the_truncate_guard_off_with_a_setting(owner):
    chain_append(2)
    with acting_as(owner):
        run("SET onestop.audit_truncate_allowed = on")  # what the test suite used to rely on
        assert "append-only: TRUNCATE refused" in refusal("TRUNCATE onestop_auditevent")
        assert "TRUNCATE refused" in refusal("TRUNCATE onestop_auditchainhead")
    assert AuditEvent.objects.count() == 2


def test_a_checkpoint_is_a_signed_line_in_the_file_and_the_logs(caplog, audit_checkpoint_file):
    chain_append(3)
    with caplog.at_level("INFO", logger="onestop.audit.checkpoint"):
        checkpoint = audit_checkpoint_write()
    assert checkpoint is not None
    line = audit_checkpoint_file.read_text().splitlines()[-1]
    assert [r.getMessage() for r in caplog.records if r.name == "onestop.audit.checkpoint"] == [line]
    body = json.loads(line)
    assert (body["seq"], body["hash"]) == (3, AuditEvent.objects.get(seq=3).row_hash)
    assert body["at"].endswith("+09:00")  # Asia/Tokyo
    # The signature checks with nothing but the public key and the documented signed bytes.
    signed = {k: body[k] for k in ("type", "seq", "hash", "at", "key")}
    message = json.dumps(signed, sort_keys=True, separators=(",", ":")).encode()
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(body["key"]))
    public.verify(base64.b64decode(body["sig"]), message)  # raises InvalidSignature otherwise


def test_a_checkpoint_is_not_signed_over_a_cut_chain(owner, audit_checkpoint_file, caplog):
    chain_append(5)
    audit_checkpoint_write()
    with acting_as(owner):
        guards(on=False)
        run("DELETE FROM onestop_auditevent WHERE id IN (SELECT event_id FROM onestop_auditlink WHERE seq >= 4)")
        run("DELETE FROM onestop_auditlink WHERE seq >= 4")
        head_set(3, row_hash(3))
        guards(on=True)
    before = audit_checkpoint_file.read_text()
    with pytest.raises(ChainNotSigned, match="seq=4"):
        audit_checkpoint_write()
    assert audit_checkpoint_file.read_text() == before
    assert any(r.levelname == "ERROR" and "audit checkpoint refused" in r.getMessage() for r in caplog.records)


def test_a_checkpoint_is_not_signed_over_a_rewritten_checkpointed_row(owner):
    chain_append(3)
    audit_checkpoint_write()
    with acting_as(owner):
        guards(on=False)
        run("UPDATE onestop_auditlink SET row_hash = %s WHERE seq = 3", ["d" * 64])
        head_set(3, "d" * 64)
        guards(on=True)
    with pytest.raises(ChainNotSigned, match="seq=3: does not match the last checkpoint"):
        audit_checkpoint_write()


def _append(path: Path, line: str) -> None:
    with path.open("a") as file:
        file.write(line + "\n")


def test_a_forged_checkpoint_is_refused(audit_checkpoint_file, capsys):
    """A rewrite cannot bring its own checkpoint: one signed by another key, or edited after
    signing, fails audit_verify."""
    chain_append(2)
    real = audit_checkpoint_write()
    assert real is not None
    stranger = checkpoint_sign(seq=2, hash_=row_hash(2), at=real.at, key=Ed25519PrivateKey.generate())
    _append(audit_checkpoint_file, stranger.as_line())
    edited = json.loads(real.as_line()) | {"seq": 1, "hash": row_hash(1)}
    _append(audit_checkpoint_file, json.dumps(edited))
    _append(audit_checkpoint_file, "not json")
    assert "3 line(s) of the checkpoint file" in verify_refusal()
    errors = capsys.readouterr().err
    assert "line 2: signed with a key that is not trusted" in errors
    assert "line 3: the signature does not verify" in errors
    assert "line 4: not a checkpoint" in errors


def test_audit_verify_passes_a_whole_chain_with_its_checkpoints(capsys):
    chain_append(3)
    audit_checkpoint_write()
    chain_append(2)
    audit_checkpoint_write()
    chain_append(1)  # after the last checkpoint: fine
    call_command("audit_verify")
    assert "audit chain intact: 6 rows, matching 2 checkpoints" in capsys.readouterr().out


def test_the_checkpoint_follows_the_head_whoever_wrote_the_rows():
    """Rows of the bulk writer (COPY) and of the row-by-row writer are anchored alike."""
    from onestop.audit import audit_log_bulk

    with transaction.atomic():
        audit_log_bulk([AuditEntry(action="record.apply_jlis", subject_type="t", subject_id=str(i)) for i in range(50)])
    chain_append(1)
    checkpoint = audit_checkpoint_write()
    head = AuditChainHead.objects.get(pk=1)
    assert checkpoint is not None and (checkpoint.seq, checkpoint.hash) == (51, head.last_hash) == (51, row_hash(51))
