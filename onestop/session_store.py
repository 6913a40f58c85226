"""The database session store, with keys that overlapping requests of one session add to.

Django's store writes the whole session back at the end of every request (SESSION_SAVE_EVERY_REQUEST,
the idle timeout), so two requests of one session in flight at once (two tabs) lost what the
first to end added: the second wrote back the session it had loaded before. Here a request that
changed nothing in the session only pushes its expiry forward (one UPDATE, as before), and one
that changed it reads the stored session under a row lock and keeps, for a key listed with
`session_key_merged` (the holder search's kept searches), the entries another request added
meanwhile: the union, the newest `keep` by their `at` stamp. Other keys are written as before.

A merged key's value is a dict of entries, each a dict with a numeric `at` (when it was added);
entries leave it only by being the oldest past `keep` (or with the whole session: a logout
flushes it, and a request still in flight then finds no row to merge with, nor to write)."""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import router, transaction
from django.utils import timezone

_MERGED: dict[str, int] = {}


def session_key_merged(name: str, *, keep: int) -> None:
    """Declare session key `name` merged on save, keeping its newest `keep` entries."""
    _MERGED[name] = keep


def merged_entries(stored: dict[str, Any], ours: dict[str, Any], *, keep: int) -> dict[str, Any]:
    """Ours and those only another request added, oldest first, the newest `keep`."""
    union = {**stored, **ours}
    ordered = sorted(union.items(), key=lambda item: _at(item[1]))
    return dict(ordered[-keep:])


def _at(entry: Any) -> float:
    at = entry.get("at") if isinstance(entry, dict) else None
    return float(at) if isinstance(at, int | float) else 0.0


class SessionStore(DatabaseSessionStore):
    def save(self, must_create: bool = False) -> None:
        if must_create or self.session_key is None:
            super().save(must_create=must_create)
            return
        if not self.modified:  # the expiry only: the data another request wrote stays
            using = router.db_for_write(self.model)
            pushed = (
                self.model.objects.using(using)
                .filter(session_key=self.session_key)
                .update(expire_date=self.get_expiry_date())
            )
            if not pushed:  # gone (a logout meanwhile): refused as Django's own store does
                raise UpdateError
            return
        data = self._get_session()  # type: ignore[attr-defined]  # SessionBase's loader; django-stubs omit it
        using = router.db_for_write(self.model)
        with transaction.atomic(using=using):
            row = (
                self.model.objects.using(using)
                .select_for_update()
                .filter(session_key=self.session_key, expire_date__gt=timezone.now())
                .only("session_data")
                .first()
            )
            if row is not None:
                stored = self.decode(row.session_data)
                for name, keep in _MERGED.items():
                    theirs, ours = stored.get(name), data.get(name)
                    if isinstance(theirs, dict) and theirs.keys() - (ours or {}).keys():
                        data[name] = merged_entries(theirs, ours if isinstance(ours, dict) else {}, keep=keep)
            super().save(must_create=False)
