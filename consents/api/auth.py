"""Who calls the API: a staff user (session) or a counter terminal (bearer token)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from onestop.models import User
from onestop.roles import Role, has_role, is_counter_staff

from ..models import CounterTerminal
from ..services.terminals import terminal_token_hash


class TerminalTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>` of a counter terminal; the terminal becomes request.user."""

    def authenticate(self, request: Request) -> tuple[CounterTerminal, str] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"bearer":
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(_("The Authorization header must be 'Bearer <token>'."))
        token = parts[1].decode("ascii", errors="replace")
        terminal = (
            CounterTerminal.objects.select_related("office")
            .filter(token_hash=terminal_token_hash(token), revoked_at__isnull=True)
            .first()
        )
        if terminal is None:
            raise AuthenticationFailed(_("The terminal token is not valid or has been revoked."))
        return terminal, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="onestop"'


class TerminalTokenScheme(OpenApiAuthenticationExtension):
    target_class = "consents.api.auth.TerminalTokenAuthentication"
    name = "terminalToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer")  # noqa: S106 (a scheme name)


def is_terminal(user: Any) -> bool:
    return isinstance(user, CounterTerminal)


class CounterStaff(BasePermission):
    """A clerk or supervisor signed in with a session."""

    message = _("Only counter staff may do this.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, User) and is_counter_staff(request.user)


class CounterStaffOrTerminal(BasePermission):
    message = _("Only counter staff or a counter terminal may do this.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_terminal(request.user) or (isinstance(request.user, User) and is_counter_staff(request.user))


class ReaderOrTerminal(BasePermission):
    """Counter staff, auditors, or a counter terminal: those who may read a consent status."""

    message = _("You may not read consent status.")

    def has_permission(self, request: Request, view: Any) -> bool:
        if is_terminal(request.user):
            return True
        return isinstance(request.user, User) and has_role(request.user, Role.CLERK, Role.SUPERVISOR, Role.AUDITOR)
