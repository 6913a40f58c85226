from typing import Any

from django.apps import AppConfig, apps
from django.contrib.admin import apps as admin_apps
from django.db.models.signals import post_migrate


def _sync_roles(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    # post_migrate reaches apps in INSTALLED_APPS order: make sure every app's permissions
    # exist before the roles are given theirs.
    from django.contrib.auth.management import create_permissions

    from .roles import role_permissions_sync

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    role_permissions_sync(using=using)


def _restrict_audit_privileges(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    from .db_roles import audit_privileges_restrict

    audit_privileges_restrict(using=using)


class OnestopConfig(AppConfig):
    name = "onestop"
    verbose_name = "onestop"

    def ready(self) -> None:
        from django.db.models import Field, ForeignObject

        from .sql_params import AnyOf

        Field.register_lookup(AnyOf)  # `field__any_of=values`
        ForeignObject.register_lookup(AnyOf)  # related fields keep lookups of their own
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="onestop-roles")
        post_migrate.connect(_restrict_audit_privileges, sender=self, dispatch_uid="onestop-audit-privileges")

        from .staff_sessions import signals_connect

        signals_connect()  # an account that loses its access loses its sessions


class OnestopAdminConfig(admin_apps.AdminConfig):
    """The admin, on a site that guards every model admin (onestop.admin_site)."""

    default = False
    default_site = "onestop.admin_site.OnestopAdminSite"
