"""Demo data for `make run`: offices, one user per role, and holders of every kind.

Idempotent: running it again changes nothing that is already there.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from consents.services import terms_version_ensure
from driver_records.models import DriverRecord, HoldingStatus, RecordKind
from driver_records.normalise import name_search_key
from driver_records.services import records_seed

from .audit_signing import signing_key_create
from .models import AuditEvent, Office, User
from .roles import Role


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: Role
    office_code: str | None

    @property
    def totp_key(self) -> str | None:
        """Every role gives a second factor: the demo gives each login a known key."""
        return DEMO_TOTP_KEYS.get(self.username)

    @property
    def totp_secret(self) -> str | None:
        key = self.totp_key
        return base64.b32encode(bytes.fromhex(key)).decode() if key else None


DEMO_TOTP_KEYS = {
    "clerk": "3131313131313131313131313131313131313131",
    "clerk_osaka": "3333333333333333333333333333333333333333",
    "clerk_police": "3434343434343434343434343434343434343434",
    "supervisor": "3132333435363738393031323334353637383930",
    "auditor": "3938373635343332313039383736353433323130",
    "supervisor2": "3232323232323232323232323232323232323232",
}


# Demo-only credentials: seed_demo refuses to run outside demo mode.
DEMO_LOGINS = (
    DemoLogin("clerk", "demo-clerk-2026", Role.CLERK, "13-LC-FUCHU"),
    DemoLogin("clerk_osaka", "demo-clerk-2026", Role.CLERK, "27-LC-KADOMA"),
    # Consents are registered at police stations too: the receipt and the worklist name the station.
    DemoLogin("clerk_police", "demo-clerk-2026", Role.CLERK, "13-PS-SHINJUKU"),
    DemoLogin("supervisor", "demo-supervisor-2026", Role.SUPERVISOR, "13-LC-FUCHU"),
    # A second Tokyo supervisor: a suspension needs one to confirm what the other proposed (R15).
    DemoLogin("supervisor2", "demo-supervisor-2026", Role.SUPERVISOR, "13-PS-SHINJUKU"),
    DemoLogin("auditor", "demo-auditor-2026", Role.AUDITOR, None),
)

# (code, name, kind, prefecture, address, telephone). Demo data: the addresses are the offices'
# public ones; the telephone numbers are placeholders (0000 as the exchange), not the offices' own.
OFFICES = (
    ("13-LC-FUCHU", "府中運転免許試験場", Office.Kind.LICENCE_CENTRE, "13", "東京都府中市多磨町3-1-1", "042-000-0001"),
    ("13-PS-SHINJUKU", "新宿警察署", Office.Kind.POLICE_STATION, "13", "東京都新宿区西新宿6-1-1", "03-0000-0002"),
    ("27-LC-KADOMA", "門真運転免許試験場", Office.Kind.LICENCE_CENTRE, "27", "大阪府門真市一番町23-16", "06-0000-0003"),
    ("27-PS-NAMBA", "難波警察署", Office.Kind.POLICE_STATION, "27", "大阪府大阪市中央区難波4-3-3", "06-0000-0004"),
    ("01-LC-SAPPORO", "札幌運転免許試験場", Office.Kind.LICENCE_CENTRE, "01", "札幌市手稲区曙5条4-1-1", "011-000-0005"),
)

FAMILY = [
    "山田",
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山本",
    "齋藤",
    "髙橋",
]
GIVEN = ["太郎", "花子", "一郎", "美咲", "健太", "陽菜", "翔", "結衣", "大輔", "さくら", "蓮", "葵"]
ADDRESSES = {
    "13": ["東京都千代田区霞が関二丁目１番１号", "東京都府中市多磨町３丁目１番地", "東京都新宿区西新宿二丁目８番１号"],
    "27": ["大阪府大阪市中央区大手前三丁目１番１１号", "大阪府門真市一番町２３番１６号"],
    "01": ["北海道札幌市中央区北二条西七丁目", "北海道札幌市手稲区曙五条四丁目１番１号"],
}
# The demo's terms of use: a short text of its own, standing in for the real terms (R17).
DEMO_TERMS_VERSION = "2025.1"
DEMO_TERMS_TEXT = """住所変更ワンストップサービス等 利用規約（デモ版）

1. 対象: マイナ免許証のみ、又はマイナ経歴証明書のみをお持ちの方が利用できます。
2. 同意: 住所地の免許センター・警察署の窓口又はマイナポータルで、署名用電子証明書による
   電子署名を付して同意します。提供に同意する事項（住所・氏名・生年月日）を選べます。
3. 有効期間: 同意の日（J-LIS のシステムに反映された日）の翌日から10年です。
4. 取消: 窓口、マイナポータル又は JPKI Mobile から、いつでも取り消せます。
5. 個人番号（マイナンバー）を警察が収集することはありません。
6. この規約は予告なく変更されることがあり、変更後の利用は変更後の規約への同意となります。
"""
# Public-safety-commission codes that open a record number (the first two digits).
PSC = {"13": "30", "27": "62", "01": "10"}
STATUSES = list(HoldingStatus)


def _record_number(rng: random.Random, prefecture: str) -> str:
    return PSC[prefecture] + f"{rng.randint(0, 99):02d}{rng.randint(0, 999999):06d}{rng.randint(0, 9)}0"


def demo_holders(count: int = 50, seed: int = 20260324) -> list[DriverRecord]:
    """Holders spread over every holding status, both kinds and the three prefectures."""
    rng = random.Random(seed)
    holders: list[DriverRecord] = []
    numbers: set[str] = set()
    for i in range(count):
        status = STATUSES[i % len(STATUSES)]
        kind = RecordKind.LICENCE if status.startswith("licence_") else RecordKind.DRIVING_HISTORY
        # Every prefecture gets every holding status (so each demo office has holders it may serve).
        prefecture = ("13", "27", "01")[(i // len(STATUSES)) % 3]
        number = _record_number(rng, prefecture)
        while number in numbers:
            number = _record_number(rng, prefecture)
        numbers.add(number)
        name = f"{FAMILY[i % len(FAMILY)]}　{GIVEN[(i * 7) % len(GIVEN)]}"
        birth = date(rng.randint(1940, 2004), rng.randint(1, 12), rng.randint(1, 28))
        if kind == RecordKind.DRIVING_HISTORY:
            birth = date(rng.randint(1935, 1958), birth.month, birth.day)
        holders.append(
            DriverRecord(
                kind=kind,
                number=number,
                name=name,
                name_key=name_search_key(name),
                birth_date=birth,
                address=rng.choice(ADDRESSES[prefecture]),  # the prefecture follows from it (R4)
                holding_status=status,
            )
        )
    return holders


def seed_demo() -> list[DemoLogin]:
    if not settings.DEMO_MODE:
        raise ImproperlyConfigured("demo data is only for demo mode (ONESTOP_DEMO=1)")
    with transaction.atomic(durable=True):
        for code, name, kind, prefecture, address, phone in OFFICES:
            office, _created = Office.objects.get_or_create(
                code=code, defaults={"name": name, "kind": kind, "prefecture": prefecture}
            )
            if not office.address and not office.phone:  # a database seeded before offices had them
                office.address, office.phone = address, phone
                office.save(update_fields=["address", "phone"])
        for login in DEMO_LOGINS:
            user, created = User.objects.get_or_create(username=login.username)
            if created:
                user.set_password(login.password)
                user.office = Office.objects.get(code=login.office_code) if login.office_code else None
                # Auditors read everything through the admin, and only read.
                user.is_staff = login.role == Role.AUDITOR
                user.save()
                user.groups.add(Group.objects.get(name=login.role.value))
                if login.totp_key:
                    TOTPDevice.objects.create(user=user, name="demo", key=login.totp_key, confirmed=True)
        # The other apps' rows through their services (each app writes its own tables).
        terms_version_ensure(version=DEMO_TERMS_VERSION, effective_date=date(2025, 3, 24), text=DEMO_TERMS_TEXT)
        records_seed(records=demo_holders())
        chain_empty = not AuditEvent.objects.exists()
    demo_checkpoints_prepare(chain_empty=chain_empty)
    if settings.JPKI_TRUST == "test":
        # A current CRL of the demo cards' CA, or every demo consent is refused (R3 fails closed).
        from consents.jpki.democard import demo_crl_refresh

        demo_crl_refresh(actor_label="seed_demo")
    return list(DEMO_LOGINS)


def demo_checkpoints_prepare(*, chain_empty: bool) -> None:
    """The demo's checkpoint signing key (var/), made once. A demo database made anew starts a
    new chain: the checkpoints of the old one are moved aside, not left to accuse the new one."""
    key_file = Path(settings.AUDIT_SIGNING_KEY_FILE)
    if settings.AUDIT_SIGNING_KEY_FILE and not settings.AUDIT_SIGNING_KEY and not key_file.exists():
        signing_key_create(key_file)
    checkpoints = settings.AUDIT_CHECKPOINT_FILE
    if chain_empty and checkpoints.exists() and checkpoints.stat().st_size:
        checkpoints.rename(checkpoints.with_name(f"{checkpoints.name}.before-{timezone.now():%Y%m%d%H%M%S}"))
