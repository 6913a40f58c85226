"""The object-scope rule: what a principal may see of, and do to, one holder.

Every view, API endpoint, admin page, export and service that reads or changes a holder asks
here. The holder belongs to the prefecture of residence (the record's current `prefecture`, R4:
consents and revocations are taken "at the counter of the holder's residence"):

- counter staff (clerks, supervisors) of an office in that prefecture read the holder's personal
  data and act on it (what their role allows); staff of another prefecture see the directory
  only: name, record number and prefecture, so they can say where the holder must go;
- auditors (and superusers, in the admin) read every holder and change none;
- a counter terminal acts only for holders of its office's prefecture and sees nothing of others.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Protocol, TypeVar

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet

from onestop.models import User
from onestop.roles import Role, user_roles

M = TypeVar("M", bound=Model)
COUNTER_ROLES = frozenset({Role.CLERK, Role.SUPERVISOR})


class HolderAccess(IntEnum):
    """Ordered: each level includes the ones below it."""

    NONE = 0
    DIRECTORY = 1  # name, record number, prefecture of residence
    READ = 2  # personal data: address, birthdate, history, consents, receipts, feed, safeguards
    WRITE = 3  # personal data and changes (what the role allows)


class HasPrefecture(Protocol):
    prefecture: str


class OutOfScope(PermissionDenied):
    """The holder is not in the principal's scope for what was asked (answered 403)."""


def office_serves(office: HasPrefecture | None, prefecture: str) -> bool:
    """R4: an office serves the holders whose prefecture of residence is its own."""
    return office is not None and bool(prefecture) and office.prefecture == prefecture


def _is_terminal(who: Any) -> bool:
    # A counter terminal (consents.CounterTerminal) is bound to an office and has no roles.
    return not isinstance(who, User | AnonymousUser) and hasattr(who, "office")


def _serving_office(who: Any) -> HasPrefecture | None:
    """The office whose prefecture's holders `who` serves at the counter, or None."""
    if _is_terminal(who):
        return who.office
    if getattr(who, "is_authenticated", False) and user_roles(who) & COUNTER_ROLES:
        return getattr(who, "office", None)
    return None


def reads_every_holder(who: Any) -> bool:
    """Auditors read all (with their second factor); superusers only reach the admin."""
    if _is_terminal(who) or not getattr(who, "is_authenticated", False):
        return False
    return bool(getattr(who, "is_superuser", False)) or Role.AUDITOR in user_roles(who)


def holder_access(who: Any, prefecture: str) -> HolderAccess:
    """How far `who` (a user, an anonymous user or a counter terminal) reaches into a holder of
    `prefecture`. Reads the user's roles and office, which come with the user: no query."""
    if office_serves(_serving_office(who), prefecture):
        return HolderAccess.WRITE
    if reads_every_holder(who):
        return HolderAccess.READ
    if _is_terminal(who) or not getattr(who, "is_authenticated", False):
        return HolderAccess.NONE
    return HolderAccess.DIRECTORY if user_roles(who) & COUNTER_ROLES else HolderAccess.NONE


def holder_require(who: Any, record: HasPrefecture, need: HolderAccess) -> None:
    """Raise OutOfScope unless `who` reaches `need` for the record's holder."""
    if holder_access(who, record.prefecture) < need:
        raise OutOfScope


# How each model that names a holder reaches the holder's prefecture. A model listed with None
# names holders without a link to their record (by number or serial): only those who read every
# holder see it. The admin asks `holders_readable` for each of these models.
HOLDER_PREFECTURE_PATHS: dict[str, str | None] = {
    "driver_records.driverrecord": "prefecture",
    "driver_records.recordchange": "record__prefecture",
    "consents.consent": "record__prefecture",
    "consents.consentstatement": "record__prefecture",
    "consents.mynaportallink": "record__prefecture",
    "safeguards.suspensionrequest": "record__prefecture",
    "safeguards.disclosurerequest": "record__prefecture",
    "onestop.auditevent": None,
    "jlis_gateway.jlisevent": None,
    "jlis_gateway.quarantinedevent": None,
    "jlis_gateway.outboxmessage": None,
}


def holders_readable(who: Any, rows: QuerySet[M], path: str | None = "prefecture") -> QuerySet[M]:
    """The rows whose holder's personal data `who` may read; `path` leads from a row to the
    holder's prefecture (None: the rows name holders without it)."""
    if reads_every_holder(who):
        return rows
    office = _serving_office(who)
    if path is None or office is None:
        return rows.none()
    return rows.filter(**{path: office.prefecture})


def model_rows_readable(who: Any, rows: QuerySet[M]) -> QuerySet[M]:
    """`holders_readable` for a model by its label (rows of models that name no holder pass)."""
    label = rows.model._meta.label_lower
    if label not in HOLDER_PREFECTURE_PATHS:
        return rows
    return holders_readable(who, rows, HOLDER_PREFECTURE_PATHS[label])
