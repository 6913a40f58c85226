"""The permission matrix: who may reach each URL of the project, and by which method.

One rule per URL pattern (by its name, or by its route when it has none). The Django admin is
ruled per model (`ADMIN_MODELS`) and per admin view. `tests/security/test_permission_matrix.py`
walks the URL resolver: a pattern without a rule fails the suite, and every URL is requested as
every principal to check the answer below. docs/security.md shows the same matrix
(`python manage.py permission_matrix --write docs/security.md` refreshes it).

What a principal that a rule does not allow gets, by zone:
- page: the login page (anonymous, or a terminal, which has no session) or 403;
- api: 401 (no credentials) or 403, as JSON `{code, message}`;
- admin: the admin login (anyone who is not staff) or 403 (staff without the permission);
- a method a view does not offer: 405, once the guard has let the principal through.

The object-scope rule (driver_records/access.py) comes on top, for URLs that read or change a
holder: each is requested with objects of the principals' own prefecture (Tokyo: the clerk's,
the supervisor's and the terminal's office) and of another (Osaka). `Reach` below restates the
rule apart from its code: what each principal reaches of a holder of its own prefecture and of
another's. A principal that the guard lets through but that does not reach what the URL needs
gets 403 (or the URL's own refusal), or, on a page that shows the directory elsewhere, the page
without personal data (`limited`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum, StrEnum


class Principal(StrEnum):
    ANONYMOUS = "anonymous"
    CLERK = "clerk"  # Role.CLERK
    SUPERVISOR = "supervisor"  # Role.SUPERVISOR
    AUDITOR = "auditor"  # Role.AUDITOR (staff: enters the admin)
    TERMINAL = "terminal"  # a counter terminal's bearer token (API only)


class Zone(StrEnum):
    PUBLIC = "public"
    MACHINE = "machine"  # health checks and metrics: no session; a token where one is needed
    PAGE = "page"
    API = "api"
    ADMIN = "admin"


class Place(StrEnum):
    OWN = "own"  # the holder lives in the principal's prefecture
    OTHER = "other"  # the holder lives in another prefecture


class Reach(IntEnum):
    """How far a principal reaches into one holder (ordered)."""

    NONE = 0
    DIRECTORY = 1  # name, record number, prefecture of residence
    READ = 2  # personal data: address, birthdate, history, consents, receipts, feed, safeguards
    WRITE = 3  # personal data, and changes (as far as the role goes)


class Outcome(StrEnum):
    OK = "ok"  # the view answers (200, its own redirect, or its validation message)
    LIMITED = "limited"  # 200 with the directory only: name, number, prefecture, where to go
    LOGIN = "login"  # 302 to the login page (the admin's, in the admin)
    UNAUTHENTICATED = "401"
    FORBIDDEN = "403"
    NOT_FOUND = "404"
    NOT_ALLOWED = "405"
    REFUSED = "422"  # the service's refusal with its reason (R4: wrong_prefecture)


ANON, CLERK, SUP, AUD, TERM = (
    Principal.ANONYMOUS,
    Principal.CLERK,
    Principal.SUPERVISOR,
    Principal.AUDITOR,
    Principal.TERMINAL,
)
Who = frozenset[Principal]
NOBODY: Who = frozenset()
EVERYONE: Who = frozenset(Principal)
STAFF: Who = frozenset({CLERK, SUP, AUD})  # any signed-in user
COUNTER: Who = frozenset({CLERK, SUP})
READERS: Who = frozenset({CLERK, SUP, AUD})
SUPERVISORS: Who = frozenset({SUP})
OVERSIGHT: Who = frozenset({SUP, AUD})
COUNTER_OR_TERMINAL: Who = frozenset({CLERK, SUP, TERM})
READERS_OR_TERMINAL: Who = frozenset({CLERK, SUP, AUD, TERM})
ADMIN_READER: Who = frozenset({AUD})


# What each principal reaches of a holder, by where the holder lives (the object-scope rule).
# Counter staff and terminals serve their own prefecture; elsewhere staff see the directory and
# terminals nothing; auditors read everyone and change no one.
REACH: dict[Place, dict[Principal, Reach]] = {
    Place.OWN: {ANON: Reach.NONE, CLERK: Reach.WRITE, SUP: Reach.WRITE, AUD: Reach.READ, TERM: Reach.WRITE},
    Place.OTHER: {ANON: Reach.NONE, CLERK: Reach.DIRECTORY, SUP: Reach.DIRECTORY, AUD: Reach.READ, TERM: Reach.NONE},
}


@dataclass(frozen=True)
class Rule:
    zone: Zone
    get: Who | None  # who may GET; None: the view does not answer GET (405)
    post: Who | None
    purpose: str
    staff_denied: Outcome = Outcome.FORBIDDEN  # admin: what staff without the permission get
    # What the URL needs of the holder it names (in its path, query or body), by method; None:
    # it names no holder.
    holder_get: Reach | None = None
    holder_post: Reach | None = None
    directory_elsewhere: bool = False  # a GET short of READ shows the directory (limited)
    out_of_scope: Outcome = Outcome.FORBIDDEN  # a principal short of what the URL needs

    @property
    def names_holder(self) -> bool:
        return self.holder_get is not None or self.holder_post is not None

    @property
    def guard(self) -> Who:
        """Who the view's guard lets through, whatever the method."""
        return (self.get or NOBODY) | (self.post or NOBODY)


def outcome(rule: Rule, principal: Principal, method: str, place: Place = Place.OWN) -> Outcome:
    """What `principal` gets for `method` (GET or POST) on a URL with this rule, for a holder of
    its own prefecture or of another."""
    guarded = _guard_outcome(rule, principal, method)
    need = rule.holder_get if method == "GET" else rule.holder_post
    if guarded != Outcome.OK or need is None:
        return guarded
    reach = REACH[place][principal]
    if reach >= need:
        return Outcome.OK
    if method == "GET" and rule.directory_elsewhere and reach >= Reach.DIRECTORY:
        return Outcome.LIMITED
    return rule.out_of_scope


def _guard_outcome(rule: Rule, principal: Principal, method: str) -> Outcome:
    """What the role guard (and the method check) answer, before any object is looked at."""
    allowed = rule.get if method == "GET" else rule.post
    if rule.zone == Zone.PUBLIC:
        return Outcome.OK if allowed is not None else Outcome.NOT_ALLOWED
    if rule.zone == Zone.MACHINE:  # its answer is its own (503: not ready); no staff role opens it
        if allowed is None:
            return Outcome.NOT_ALLOWED
        return Outcome.OK if principal in allowed else Outcome.NOT_FOUND
    # The admin site lets staff through before a view looks at the method.
    guard = rule.guard | (ADMIN_READER if rule.zone == Zone.ADMIN else NOBODY)
    if principal in (allowed if allowed is not None else guard):
        return Outcome.OK if allowed is not None else Outcome.NOT_ALLOWED
    if rule.zone == Zone.API:
        return Outcome.UNAUTHENTICATED if principal == ANON else Outcome.FORBIDDEN
    if rule.zone == Zone.PAGE:
        return Outcome.LOGIN if principal in (ANON, TERM) else Outcome.FORBIDDEN
    return rule.staff_denied if principal == AUD else Outcome.LOGIN


# --- the project's own URLs -------------------------------------------------------------------
RULES: dict[str, Rule] = {
    "/": Rule(Zone.PUBLIC, EVERYONE, EVERYONE, "Redirects to the holder search."),
    "healthz": Rule(Zone.MACHINE, EVERYONE, None, "Liveness: the process answers; checks nothing else."),
    "healthz-ready": Rule(Zone.MACHINE, EVERYONE, None, "Readiness of each part against its threshold (503)."),
    "metrics": Rule(
        Zone.MACHINE, NOBODY, None, "Prometheus metrics: only with the scraper's token (METRICS_TOKEN); none set here."
    ),
    "login": Rule(Zone.PUBLIC, EVERYONE, EVERYONE, "Staff login (lockout after repeated failures)."),
    "logout": Rule(Zone.PUBLIC, None, EVERYONE, "Logout (POST only)."),
    "set_language": Rule(Zone.PUBLIC, EVERYONE, EVERYONE, "Switches the interface language."),
    "second_factor": Rule(Zone.PAGE, STAFF, STAFF, "TOTP enrolment and check after the password."),
    "counter:home": Rule(
        Zone.PAGE,
        READERS,
        READERS,
        "Holder search by record number or name; elsewhere: name, number, prefecture. The form posts; the "
        "results' address carries a token of the session's, never what was typed.",
        holder_get=Reach.READ,
        directory_elsewhere=True,
    ),
    "counter:record": Rule(
        Zone.PAGE,
        READERS,
        None,
        "The holder page (audited); elsewhere: where the holder must go.",
        holder_get=Reach.READ,
        directory_elsewhere=True,
    ),
    "counter:holding-status": Rule(
        Zone.PAGE, None, COUNTER, "Record a holding-status change (R12).", holder_post=Reach.WRITE
    ),
    "consents:statement-new": Rule(
        Zone.PAGE, None, COUNTER, "Start a consent: the statement to sign (R4).", holder_post=Reach.WRITE
    ),
    "consents:mynaportal-link": Rule(
        Zone.PAGE, None, COUNTER, "Record Mynaportal linkage (R4).", holder_post=Reach.WRITE
    ),
    "consents:statement": Rule(
        Zone.PAGE, COUNTER, None, "The statement to sign (own office only).", holder_get=Reach.WRITE
    ),
    "consents:statement-demo-sign": Rule(
        Zone.PAGE, None, COUNTER, "Demo mode: the demo card signs.", holder_post=Reach.WRITE
    ),
    "consents:receipt": Rule(
        Zone.PAGE, READERS, None, "The consent receipt (each view is audited).", holder_get=Reach.READ
    ),
    "consents:revocation-slip": Rule(
        Zone.PAGE,
        READERS,
        None,
        "The holder's slip for a revoked consent (each view is audited).",
        holder_get=Reach.READ,
    ),
    "consents:revoke": Rule(
        Zone.PAGE,
        SUPERVISORS,
        SUPERVISORS,
        "Revoke a consent with a reason, at the counter of residence (R9).",
        holder_get=Reach.WRITE,
        holder_post=Reach.WRITE,
    ),
    "consents:worklist": Rule(
        Zone.PAGE,
        COUNTER,
        None,
        "The office's worklist: today's registrations and revocations there, consents waiting for J-LIS, "
        "messages J-LIS refused or the relay gave up (only the holders of the office's prefecture).",
    ),
    "consents:withdraw": Rule(
        Zone.PAGE,
        SUPERVISORS,
        SUPERVISORS,
        "Withdraw a pending consent taken by mistake, with a reason, before J-LIS reflects it.",
        holder_get=Reach.WRITE,
        holder_post=Reach.WRITE,
    ),
    "consents:outbox-resend": Rule(
        Zone.PAGE,
        SUPERVISORS,
        SUPERVISORS,
        "Send again a message to J-LIS the relay gave up on, after a confirmation (audited).",
        holder_get=Reach.WRITE,
        holder_post=Reach.WRITE,
    ),
    "gateway:monitor": Rule(Zone.PAGE, OVERSIGHT, None, "The J-LIS gateway monitor: polls, lag, outbox, failures."),
    "gateway:poll_now": Rule(Zone.PAGE, None, SUPERVISORS, "Queue a poll of J-LIS now."),
    "safeguards:home": Rule(Zone.PAGE, OVERSIGHT, None, "Suspensions waiting for a second supervisor; disclosures."),
    "safeguards:suspension-propose": Rule(
        Zone.PAGE,
        SUPERVISORS,
        SUPERVISORS,
        "Propose stopping the service for a prohibited act (R15).",
        holder_get=Reach.READ,
        holder_post=Reach.WRITE,
    ),
    "safeguards:suspension": Rule(
        Zone.PAGE,
        OVERSIGHT,
        SUPERVISORS,
        "A suspension; another supervisor confirms or rejects (audited).",
        holder_get=Reach.READ,
        holder_post=Reach.WRITE,
    ),
    "safeguards:disclosure-new": Rule(
        Zone.PAGE,
        SUPERVISORS,
        SUPERVISORS,
        "Register a disclosure request (R16).",
        holder_get=Reach.READ,
        holder_post=Reach.WRITE,
    ),
    "safeguards:disclosure": Rule(
        Zone.PAGE,
        OVERSIGHT,
        SUPERVISORS,
        "A disclosure request; supervisors take its next step (audited).",
        holder_get=Reach.READ,
        holder_post=Reach.WRITE,
    ),
    "safeguards:disclosure-report": Rule(
        Zone.PAGE, OVERSIGHT, None, "The printable answer: all held about the holder (audited).", holder_get=Reach.READ
    ),
    "api:statements": Rule(
        Zone.API,
        COUNTER_OR_TERMINAL,
        COUNTER,
        "List the office's open statements; staff make new ones (R4).",
        holder_post=Reach.WRITE,
        out_of_scope=Outcome.REFUSED,
    ),
    "api:statement": Rule(
        Zone.API, COUNTER_OR_TERMINAL, None, "Read a statement to sign (own office only).", holder_get=Reach.WRITE
    ),
    "api:statement-sign": Rule(
        Zone.API, None, COUNTER_OR_TERMINAL, "Submit the holder's signature (R3).", holder_post=Reach.WRITE
    ),
    "api:consent-status": Rule(
        Zone.API, READERS_OR_TERMINAL, None, "A record's consent status (R8).", holder_get=Reach.READ
    ),
    "api-schema": Rule(Zone.API, READERS_OR_TERMINAL, None, "The OpenAPI description of the API."),
    # The admin site's own views.
    "admin:index": Rule(Zone.ADMIN, ADMIN_READER, ADMIN_READER, "The models the user may read."),
    "admin:app_list": Rule(Zone.ADMIN, ADMIN_READER, ADMIN_READER, "One application's models."),
    "admin:login": Rule(Zone.PUBLIC, EVERYONE, EVERYONE, "The admin's login (staff only get in)."),
    "admin:logout": Rule(Zone.ADMIN, None, ADMIN_READER, "Logout from the admin (POST only)."),
    "admin:password_change": Rule(Zone.ADMIN, ADMIN_READER, ADMIN_READER, "Change one's own password."),
    "admin:password_change_done": Rule(Zone.ADMIN, ADMIN_READER, None, "After a password change."),
    "admin:jsi18n": Rule(Zone.ADMIN, ADMIN_READER, None, "The admin's JavaScript translations."),
    "admin:autocomplete": Rule(Zone.ADMIN, NOBODY, None, "Unused: no admin has autocomplete fields."),
    "admin:view_on_site": Rule(
        Zone.ADMIN, NOBODY, NOBODY, "Unused: no model has a page outside the admin.", Outcome.NOT_FOUND
    ),
    "admin/(?P<url>.*)$": Rule(Zone.ADMIN, NOBODY, NOBODY, "Any other admin URL: not found.", Outcome.NOT_FOUND),
    # Admin views a model admin adds to the usual ones.
    "admin:auth_user_password_change": Rule(Zone.ADMIN, NOBODY, NOBODY, "Set a staff user's password."),
    "admin:otp_totp_totpdevice_config": Rule(Zone.ADMIN, NOBODY, NOBODY, "TOTP secrets: hidden from everyone."),
    "admin:otp_totp_totpdevice_qrcode": Rule(Zone.ADMIN, NOBODY, NOBODY, "TOTP secrets: hidden from everyone."),
    "admin:onestop_auditevent_checkpoints": Rule(
        Zone.ADMIN, ADMIN_READER, None, "The audit chain's signed checkpoints, each checked (read only)."
    ),
}


# --- the admin, per model ---------------------------------------------------------------------
class AdminAccess(StrEnum):
    AUDITED = "audited"  # the auditor reads (onestop.roles.AUDITED_APPS); only superusers change
    SUPERUSER = "superuser"  # superusers only


ADMIN_MODELS: dict[str, AdminAccess] = {
    "onestop.office": AdminAccess.AUDITED,
    "onestop.user": AdminAccess.AUDITED,
    "onestop.auditevent": AdminAccess.AUDITED,
    "driver_records.driverrecord": AdminAccess.AUDITED,
    "driver_records.recordchange": AdminAccess.AUDITED,
    "consents.termsversion": AdminAccess.AUDITED,
    "consents.consent": AdminAccess.AUDITED,
    "consents.consentstatement": AdminAccess.AUDITED,
    "consents.mynaportallink": AdminAccess.AUDITED,
    "consents.crlimport": AdminAccess.AUDITED,
    "consents.revokedcertificate": AdminAccess.AUDITED,
    "jlis_gateway.jlisevent": AdminAccess.AUDITED,
    "jlis_gateway.quarantinedevent": AdminAccess.AUDITED,
    "jlis_gateway.pollstate": AdminAccess.AUDITED,
    "jlis_gateway.outboxmessage": AdminAccess.AUDITED,
    "safeguards.suspensionrequest": AdminAccess.AUDITED,
    "safeguards.disclosurerequest": AdminAccess.AUDITED,
    "axes.accessattempt": AdminAccess.AUDITED,
    "axes.accesslog": AdminAccess.AUDITED,
    "axes.accessfailurelog": AdminAccess.AUDITED,
    "auth.group": AdminAccess.SUPERUSER,
    "otp_totp.totpdevice": AdminAccess.SUPERUSER,
}

# Admin models whose rows name a holder: the auditor reads every holder's; anyone else the admin
# might let in would see only those of the holders they serve (GuardedModelAdmin.get_queryset).
ADMIN_HOLDER_MODELS = frozenset(
    {
        "driver_records.driverrecord",
        "driver_records.recordchange",
        "consents.consent",
        "consents.consentstatement",
        "consents.mynaportallink",
        "safeguards.suspensionrequest",
        "safeguards.disclosurerequest",
        "onestop.auditevent",
        "jlis_gateway.jlisevent",
        "jlis_gateway.quarantinedevent",
        "jlis_gateway.outboxmessage",
    }
)

# The views every model admin has (plus `export` where the list can be exported as CSV).
# POST to a read view answers as GET; POST to the list is refused to read-only users.
ADMIN_MODEL_VIEWS: dict[str, tuple[Who | None, Who | None, str]] = {
    "changelist": (ADMIN_READER, NOBODY, "The list (POST runs actions: refused to read-only users)."),
    "export": (ADMIN_READER, ADMIN_READER, "The list as CSV, as filtered (each export is audited)."),
    "change": (ADMIN_READER, NOBODY, "One row, read-only for the auditor."),
    "history": (ADMIN_READER, ADMIN_READER, "The admin's change history of one row."),
    "add": (NOBODY, NOBODY, "Add a row."),
    "delete": (NOBODY, NOBODY, "Delete a row."),
}
ADMIN_ROW_VIEWS = ("change", "history", "delete")  # the views that name one row
ADMIN_OBJECT_REDIRECT = Rule(
    Zone.ADMIN, ADMIN_READER, ADMIN_READER, "Redirects to the row's change page, which has its own rule."
)


def _admin_model_rule(key: str) -> Rule | None:
    """The rule of `admin:<app>_<model>_<view>` or of the unnamed `admin/<app>/<model>/<id>/`."""
    if key.startswith("admin/") and key.endswith("/<path:object_id>/"):
        label = ".".join(key.split("/")[1:3])
        if label not in ADMIN_MODELS:
            return None
        return _holder_rows(ADMIN_OBJECT_REDIRECT) if label in ADMIN_HOLDER_MODELS else ADMIN_OBJECT_REDIRECT
    if not key.startswith("admin:"):
        return None
    for label, access in ADMIN_MODELS.items():
        prefix = "admin:" + label.replace(".", "_") + "_"
        view = key.removeprefix(prefix)
        if view != key and view in ADMIN_MODEL_VIEWS:
            get, post, purpose = ADMIN_MODEL_VIEWS[view]
            if access == AdminAccess.SUPERUSER:
                get, post = (NOBODY if get is not None else None), (NOBODY if post is not None else None)
            rule = Rule(Zone.ADMIN, get, post, purpose)
            return _holder_rows(rule) if label in ADMIN_HOLDER_MODELS and view in ADMIN_ROW_VIEWS else rule
    return None


def _holder_rows(rule: Rule) -> Rule:
    """An admin view of rows that name holders: requested with rows of both prefectures."""
    return replace(
        rule,
        holder_get=Reach.READ if rule.get is not None else None,
        holder_post=Reach.READ if rule.post is not None else None,
    )


def rule_for(key: str) -> Rule | None:
    """The rule of a URL pattern (its name, or its route when unnamed); None if it has none."""
    return RULES.get(key) or _admin_model_rule(key)


# --- the documentation ------------------------------------------------------------------------
MARK_START = "<!-- permission-matrix:start -->"
MARK_END = "<!-- permission-matrix:end -->"
_CELL = {
    Outcome.OK: "✓",
    Outcome.LIMITED: "dir",
    Outcome.LOGIN: "login",
    Outcome.UNAUTHENTICATED: "401",
    Outcome.FORBIDDEN: "403",
    Outcome.NOT_FOUND: "404",
    Outcome.NOT_ALLOWED: "405",
    Outcome.REFUSED: "422",
}
_ORDER = (ANON, CLERK, SUP, AUD, TERM)


def _cells(rule: Rule, method: str, place: Place = Place.OWN) -> str:
    if place == Place.OTHER and (rule.holder_get if method == "GET" else rule.holder_post) is None:
        return "="  # the URL names no holder for this method: the same answers
    return " ".join(_CELL[outcome(rule, who, method, place)] for who in _ORDER)


def _row(name: str, rule: Rule, extra: str) -> str:
    cells = " | ".join(_cells(rule, m, p) for p in Place for m in ("GET", "POST"))
    return f"| {name} | {extra} | {cells} | {rule.purpose} |"


def matrix_markdown() -> str:
    """The matrix as Markdown tables, for docs/security.md."""
    header = (
        "Cells: anonymous · clerk · supervisor · auditor · terminal. ✓ the view answers; "
        "dir: the page without personal data (name, record number, prefecture: where the holder "
        "must go); login: sent to the login page; 401/403/404/405: refused with that status; "
        "422: the service refuses with its reason (R4: `wrong_prefecture`). "
        "Own: a holder (or row) of the principals' prefecture; other: of another prefecture; "
        "=: the URL names no holder for that method, the answers are the own ones.\n"
    )
    columns = "| GET own | POST own | GET other | POST other | what it is |"
    lines = [header, "| URL (name or route) | zone " + columns, "|---|---|---|---|---|---|---|"]
    lines += [_row(f"`{key}`", rule, str(rule.zone)) for key, rule in RULES.items()]
    lines += ["", "Admin views of every model (`admin:<app>_<model>_<view>`):", ""]
    lines += ["| view | access " + columns, "|---|---|---|---|---|---|---|"]
    for access in AdminAccess:
        for holders in (True, False):
            label = next(
                (m for m, a in ADMIN_MODELS.items() if a == access and (m in ADMIN_HOLDER_MODELS) == holders), None
            )
            if label is None:
                continue
            kind = f"{access}, holders' rows" if holders else str(access)
            for view in ADMIN_MODEL_VIEWS:
                rule = _admin_model_rule("admin:" + label.replace(".", "_") + "_" + view)
                assert rule is not None
                lines.append(_row(view, rule, kind))
    lines.append(_row("`<id>/`", ADMIN_OBJECT_REDIRECT, "any"))
    lines += ["", "Models by access:", ""]
    for access in AdminAccess:
        models = ", ".join(f"`{label}`" for label, a in ADMIN_MODELS.items() if a == access)
        lines.append(f"- {access}: {models}")
    lines.append("- rows naming holders: " + ", ".join(f"`{label}`" for label in sorted(ADMIN_HOLDER_MODELS)))
    return "\n".join(lines) + "\n"
