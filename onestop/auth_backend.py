"""Signing in and loading the signed-in user: Django's model backend, with the user's roles read
in the same go, so every role check of a request asks the user it already has."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from .roles import users_with_roles


class StaffBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        user = users_with_roles().filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
