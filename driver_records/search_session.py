"""The holder search's criteria, kept in the signed-in session under a short random token.

Counter PCs are shared, and a browser keeps every address it showed (history, address-bar
suggestions, session restore). The search form posts what was typed; the answer sends the
browser to `/counter/?s=<token>`, whose page reads the criteria back from the session. The
address names no holder, and it shows nothing to another session or after logout (the session
is flushed then). Only the last few searches are kept, so the session stays small; each lives
as long as the session (SESSION_IDLE_SECONDS). Two tabs of one session searching at once each
keep theirs: the session store merges this key on save (onestop/session_store.py)."""

from __future__ import annotations

import secrets
import time
from typing import Any, TypedDict

from onestop.session_store import merged_entries, session_key_merged

SESSION_KEY = "counter_searches"
KEPT = 10  # the last searches whose results pages can still be reloaded or gone back to
TOKEN_BYTES = 9  # 12 URL-safe characters
session_key_merged(SESSION_KEY, keep=KEPT)


class SearchCriteria(TypedDict):
    q: str
    birth_date: str  # as typed: the results page shows it again in the form


def search_keep(session: Any, criteria: SearchCriteria) -> str:
    """Keep `criteria` in the session; the token that reads them back."""
    kept = session.get(SESSION_KEY, {})
    token = secrets.token_urlsafe(TOKEN_BYTES)
    # Stamped (in ns: always 19 digits, so the session does not grow), so that the newest are kept,
    # merged with another tab's too.
    added = {token: {"q": criteria["q"], "birth_date": criteria["birth_date"], "at": time.time_ns()}}
    session[SESSION_KEY] = merged_entries(kept if isinstance(kept, dict) else {}, added, keep=KEPT)
    return token


def search_recall(session: Any, token: str) -> SearchCriteria | None:
    """The criteria kept under `token` in this session, or None (another session's, forgotten,
    or from before a logout)."""
    kept = session.get(SESSION_KEY, {})
    found = kept.get(token) if isinstance(kept, dict) else None
    if not isinstance(found, dict):
        return None
    return {"q": str(found.get("q", "")), "birth_date": str(found.get("birth_date", ""))}
