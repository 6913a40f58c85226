"""Starting a consent: the checks (R1, R2, R4, R17) and the canonical statement the holder signs."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from driver_records.models import DriverRecord, RecordKind
from driver_records.selectors import record_or_none
from onestop.audit import AuditEntry, audit_log
from onestop.audit_actions import AuditAction
from onestop.models import Office, User
from onestop.roles import is_counter_staff

from ..errors import ConsentRefused
from ..models import ConsentItem, ConsentStatement, TermsVersion
from ..period import JST
from ..selectors import consent_start_refusal, items_in_order, terms_version_current

STATEMENT_LIFETIME = timedelta(minutes=15)

# The statement is a legal text in Japanese whatever the page's language, so its wording is
# fixed here rather than translated: the holder signs exactly these bytes (UTF-8).
_KIND_JA = {RecordKind.LICENCE: "運転免許", RecordKind.DRIVING_HISTORY: "運転経歴証明書"}
_ITEM_JA = {ConsentItem.ADDRESS: "住所", ConsentItem.NAME: "氏名", ConsentItem.BIRTH_DATE: "生年月日"}


def statement_text(
    *, record: DriverRecord, items: list[str], terms: TermsVersion, office: Office, at: datetime, nonce: str
) -> str:
    """The canonical consent statement: what the holder's card signs, line by line."""
    chosen = "、".join(_ITEM_JA[ConsentItem(item)] for item in items_in_order(items))
    lines = [
        "住所変更ワンストップサービス等 利用開始の同意",
        "",
        "私は、地方公共団体情報システム機構（J-LIS）が、下記の同意する事項の最新の情報と"
        "私の署名用電子証明書の発行番号を警察に提供することに、利用規約に従い同意します。",
        "",
        f"記録番号: {record.number}",
        f"記録の種別: {_KIND_JA[RecordKind(record.kind)]}",
        f"同意する事項: {chosen}",
        f"利用規約の版: {terms.version}",
        f"受付: {office.name}（{office.code}）",
        f"日時: {at.astimezone(JST):%Y-%m-%d %H:%M:%S}（日本時間）",
        f"確認番号: {nonce}",
    ]
    return "\n".join(lines) + "\n"


def clean_items(items: Iterable[str]) -> list[str]:
    """R2: at least one of address, name and date of birth, in canonical order."""
    chosen = list(items)
    if any(item not in ConsentItem.values for item in chosen):
        raise ConsentRefused("unknown_item")
    if not chosen:
        raise ConsentRefused("no_items")
    return items_in_order(chosen)


def statement_create(*, record_id: int, items: Iterable[str], actor: User) -> ConsentStatement:
    """Check that this holder may consent here and make the one-time statement to sign."""
    if not is_counter_staff(actor):
        raise ConsentRefused("not_counter_staff")
    chosen = clean_items(items)
    with transaction.atomic(durable=True):
        record = record_or_none(pk=record_id)
        if record is None:
            raise ConsentRefused("record_not_found")
        refusal = consent_start_refusal(record=record, office=actor.office)
        if refusal is not None:
            raise refusal
        terms = terms_version_current()
        assert terms is not None and actor.office is not None  # consent_start_refusal checked both
        now = timezone.now()
        nonce = secrets.token_hex(16)
        statement = ConsentStatement.objects.create(
            record=record,
            items=chosen,
            terms_version=terms,
            office=actor.office,
            clerk=actor,
            nonce=nonce,
            text=statement_text(record=record, items=chosen, terms=terms, office=actor.office, at=now, nonce=nonce),
            created_at=now,
            expires_at=now + STATEMENT_LIFETIME,
        )
        audit_log(
            AuditEntry(
                action=AuditAction.CONSENT_STATEMENT_CREATE,
                subject_type="consent_statement",
                subject_id=str(statement.pk),
                actor=actor,
                record_number=record.number,
                new_values={"items": chosen, "terms_version": terms.version, "expires_at": statement.expires_at},
            )
        )
    return statement
