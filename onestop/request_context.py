"""What the request or task being served is: its id (for logs and the audit trail), and the
idempotent answer it is making, if any (onestop.idempotency)."""

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
# The id of the IdempotentRequest row whose answer this request makes, while it runs.
idempotent_answer_var: ContextVar[int | None] = ContextVar("idempotent_answer", default=None)
