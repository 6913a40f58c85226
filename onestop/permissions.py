"""View guards by role; every counter view declares which roles reach it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from .models import User
from .roles import Role, has_role


def role_required(*roles: Role) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = roles  # type: ignore[attr-defined]
        return login_required(wrapped)

    return decorator


def staff_user(request: HttpRequest) -> User:
    """The user of a view behind role_required: a signed-in staff user (login_required checked)."""
    return cast(User, request.user)


COUNTER = (Role.CLERK, Role.SUPERVISOR)
READERS = (Role.CLERK, Role.SUPERVISOR, Role.AUDITOR)
SUPERVISORS = (Role.SUPERVISOR,)
OVERSIGHT = (Role.SUPERVISOR, Role.AUDITOR)
