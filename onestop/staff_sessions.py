"""Every session of a staff account that loses its access ends at once.

A session holds more than the sign-in: the holder search keeps the names and birthdates typed
(driver_records/search_session.py), and the second factor's device is remembered in it. An
account that is deactivated, loses a role or a permission, is moved to another office, loses a
flag, gets a new password or loses its authenticator must not keep any of that in the session
store, nor a cookie that signs it in again should its access come back (a deactivated account's
session was only unusable while the account was inactive).

The mechanism is the model signals, so every path ends the sessions: the admin (the user's page,
the group's page), a script, a management command. The sessions end when the change commits (a
change rolled back keeps them), and each time the trail says so (`auth.sessions_ended`), with
the account's id, which part of its standing changed (never the values) and how many ended."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import AuditEntry, audit_log_many
from .audit_actions import AuditAction
from .models import User

# What the account may do and how it signs in. Any change to one of them ends its sessions:
# gaining a role ends them too (signing in again is cheap; telling a gain from a loss is not
# always possible: a new office is both). last_login, names and e-mail are left out.
STANDING_FIELDS = ("is_active", "is_staff", "is_superuser", "office_id", "password")
USER_ID_KEY = "_auth_user_id"  # where django.contrib.auth keeps the signed-in user in the session


def sessions_end(user_ids: Iterable[int]) -> int:
    """Delete every stored session signed in as one of `user_ids`, expired or not (an expired row
    keeps its searches until it is deleted). Returns how many went.

    The store is read row by row: Django's session table has no user column, and the rows are few
    (staff, for SESSION_IDLE_SECONDS, and `sessions_expired_clear` removes the expired ones)."""
    wanted = {str(pk) for pk in user_ids}
    if not wanted:
        return 0
    doomed = [
        session.pk
        for session in Session.objects.only("session_key", "session_data").iterator(chunk_size=500)
        if str(session.get_decoded().get(USER_ID_KEY)) in wanted
    ]
    # A request of that user still running cannot write its session back: Django saves an
    # existing session by UPDATE, and a row gone makes that request fail (SessionInterrupted).
    return Session.objects.filter(pk__in=doomed).delete()[0] if doomed else 0


def sessions_expired_clear() -> int:
    """Delete the sessions past their idle timeout (what `manage.py clearsessions` does), with the
    searches they keep. Returns how many went."""
    return Session.objects.filter(expire_date__lt=timezone.now()).delete()[0]


def _end_when_committed(user_ids: Iterable[int], changed: Iterable[str]) -> None:
    ids = sorted(set(user_ids))
    what = sorted(set(changed))
    if ids:
        transaction.on_commit(lambda: _end_and_audit(ids, what), robust=False)


def _end_and_audit(user_ids: list[int], changed: list[str]) -> None:
    with transaction.atomic():
        ended = {pk: count for pk in user_ids if (count := sessions_end([pk]))}
        # A row for each account whose sessions went; one change saved in several steps (the
        # admin saves the user, then its roles) ends them at the first, and the rest find none.
        audit_log_many(
            AuditEntry(
                action=AuditAction.AUTH_SESSIONS_ENDED,
                subject_type="user",
                subject_id=str(pk),
                new_values={"changed": changed, "sessions_ended": count},
            )
            for pk, count in ended.items()
        )


def _standing(user: User) -> dict[str, Any]:
    return {field: getattr(user, field) for field in STANDING_FIELDS}


def _user_before_save(sender: type[User], instance: User, raw: bool = False, **kwargs: Any) -> None:
    if raw or instance.pk is None:
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and not {f.removesuffix("_id") for f in STANDING_FIELDS} & {
        f.removesuffix("_id") for f in update_fields
    }:
        return  # e.g. last_login, written at every sign-in: nothing to compare
    before = User.objects.filter(pk=instance.pk).values(*STANDING_FIELDS).first()
    instance._standing_before = before  # type: ignore[attr-defined]  # read by _user_saved


def _user_saved(sender: type[User], instance: User, created: bool, raw: bool = False, **kwargs: Any) -> None:
    before = getattr(instance, "_standing_before", None)
    instance._standing_before = None  # type: ignore[attr-defined]
    if raw or created or before is None:
        return
    changed = [field for field, value in _standing(instance).items() if before[field] != value]
    if changed:
        _end_when_committed([instance.pk], [field.removesuffix("_id") for field in changed])


def _user_deleted(sender: type[User], instance: User, **kwargs: Any) -> None:
    _end_when_committed([instance.pk], ["deleted"])


def _m2m_changed(
    sender: type, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any
) -> None:
    """Roles (groups) and permissions, changed from the user's side or the group's."""
    what = "groups" if sender is User.groups.through else "user_permissions"
    if not reverse:  # instance is the user
        if action == "post_clear" or (action in {"post_add", "post_remove"} and pk_set):
            _end_when_committed([instance.pk], [what])
        return
    if action == "pre_clear":  # instance is a group or permission: its users, before they go
        instance._users_before_clear = list(instance.user_set.values_list("pk", flat=True))
    elif action == "post_clear":
        _end_when_committed(getattr(instance, "_users_before_clear", []), [what])
    elif action in {"post_add", "post_remove"} and pk_set:
        _end_when_committed(pk_set, [what])


def _group_deleting(sender: type[Group], instance: Group, **kwargs: Any) -> None:
    # Deleting a group takes its members' role away without an m2m signal: read them before.
    _end_when_committed(instance.user_set.values_list("pk", flat=True), ["groups"])


def _device_deleted(sender: type[TOTPDevice], instance: TOTPDevice, **kwargs: Any) -> None:
    """An authenticator withdrawn: the sessions verified with it end. An unconfirmed one verified
    no session: an enrolment started again replaces it without ending the session doing it."""
    if instance.confirmed:
        _end_when_committed([instance.user_id], ["second_factor"])


def signals_connect() -> None:
    pre_save.connect(_user_before_save, sender=User, dispatch_uid="staff-sessions-pre-save")
    post_save.connect(_user_saved, sender=User, dispatch_uid="staff-sessions-post-save")
    post_delete.connect(_user_deleted, sender=User, dispatch_uid="staff-sessions-delete")
    m2m_changed.connect(_m2m_changed, sender=User.groups.through, dispatch_uid="staff-sessions-groups")
    m2m_changed.connect(_m2m_changed, sender=User.user_permissions.through, dispatch_uid="staff-sessions-perms")
    pre_delete.connect(_group_deleting, sender=Group, dispatch_uid="staff-sessions-group-delete")
    post_delete.connect(_device_deleted, sender=TOTPDevice, dispatch_uid="staff-sessions-device-delete")
