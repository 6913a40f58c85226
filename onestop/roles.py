"""Staff roles. Each is a Django group created by a migration with its permissions."""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AnonymousUser, Group
from django.db.models import Prefetch, QuerySet

from .models import User


class Role(StrEnum):
    CLERK = "counter_staff"  # 窓口職員
    SUPERVISOR = "supervisor"  # 責任者
    AUDITOR = "auditor"  # 監査


ROLE_LABELS = {Role.CLERK: "窓口職員", Role.SUPERVISOR: "責任者", Role.AUDITOR: "監査"}


# The role groups a user was loaded with (users_with_roles).
ROLE_GROUPS = "role_groups"


def users_with_roles() -> QuerySet[User]:
    """Users with their role groups read along (one query more for any number of them): the
    signed-in user is loaded so (onestop.auth_backend), and every role check of the request
    reads them instead of asking the database again."""
    return User.objects.prefetch_related(Prefetch("groups", queryset=Group.objects.only("name"), to_attr=ROLE_GROUPS))


ROLES_READ = "_onestop_roles"  # the roles of a user loaded with its groups, worked out once


def user_roles(user: User | AnonymousUser) -> set[Role]:
    if not user.is_authenticated:
        return set()
    groups = getattr(user, ROLE_GROUPS, None)
    if groups is None:
        names = set(user.groups.values_list("name", flat=True))
        return {role for role in Role if role.value in names}
    # The groups were read with the user (a snapshot for its request): a page asks thousands
    # of times (every search row's scope), so the answer is kept with them.
    roles: frozenset[Role] | None = user.__dict__.get(ROLES_READ)
    if roles is None:
        names = {g.name for g in groups}
        roles = frozenset(role for role in Role if role.value in names)
        user.__dict__[ROLES_READ] = roles
    return set(roles)


def has_role(user: User | AnonymousUser, *roles: Role) -> bool:
    return bool(user_roles(user) & set(roles))


def is_counter_staff(user: User | AnonymousUser) -> bool:
    """Clerks and supervisors work the counter; supervisors can do everything a clerk can."""
    return has_role(user, Role.CLERK, Role.SUPERVISOR)


def is_supervisor(user: User | AnonymousUser) -> bool:
    return has_role(user, Role.SUPERVISOR)


def is_auditor(user: User | AnonymousUser) -> bool:
    return has_role(user, Role.AUDITOR)


# Apps whose every model the auditor may view in the admin (and never change); axes holds the
# login failures and lockouts.
AUDITED_APPS = ("onestop", "driver_records", "consents", "jlis_gateway", "axes", "safeguards")


def role_permissions_sync(*, using: str = "default") -> None:
    """Give each role group exactly its permissions, in the database `using`. Runs after every
    migrate (of whichever database)."""
    from django.contrib.auth.models import Group, Permission

    view_all = Permission.objects.using(using).filter(
        content_type__app_label__in=AUDITED_APPS, codename__startswith="view_"
    )
    for role in Role:
        group, _created = Group.objects.using(using).get_or_create(name=role.value)
        if role == Role.AUDITOR:
            group.permissions.set(view_all)
        else:
            # Clerks and supervisors work through the counter pages, not the admin.
            group.permissions.clear()
