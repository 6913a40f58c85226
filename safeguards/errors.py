"""Why a defensive-measure or disclosure step was refused: one code per reason, in plain words."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

EXPLANATIONS: dict[str, Promise] = {
    "forbidden": _("Only a supervisor may do this."),
    "no_office": _("Your account has no office. Ask an administrator to set your office."),
    "wrong_prefecture": _(
        "This holder's prefecture of residence is another prefecture: its supervisors handle this holder."
    ),
    "already_suspended": _("The service is already stopped for this holder."),
    "proposal_open": _("A suspension of this holder is already waiting for a second supervisor."),
    "own_proposal": _("You proposed this suspension. A different supervisor must confirm or reject it (four eyes)."),
    "already_decided": _("This proposal has already been decided."),
    "not_found": _("This request does not exist."),
    "note_required": _("Enter a note: what was done, and how it came to light."),
    "note_too_long": _("The note is too long (1,000 characters at most)."),
    "not_in_order": _(
        "This step cannot be taken now. A disclosure request goes through its steps in order: received, "
        "identity checked, fee paid, answered, closed."
    ),
    "report_not_ready": _("The report can be produced once the fee has been paid."),
}


def explain(code: str) -> str:
    return str(EXPLANATIONS.get(code, _("The request was refused.")))


class SafeguardRefused(Exception):
    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        self.message = message or explain(code)
        super().__init__(f"{code}: {self.message}")
