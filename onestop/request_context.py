"""What the request or task being served is: its id (for logs and the audit trail), the
idempotent answer it is making, if any (onestop.idempotency), and whether it carried a My Number
that a field refused (onestop.validators)."""

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
# The id of the IdempotentRequest row whose answer this request makes, while it runs.
idempotent_answer_var: ContextVar[int | None] = ContextVar("idempotent_answer", default=None)


class RefusalNote:
    """Set while a POST is answered: whether a field refused a My Number in it (R14)."""

    refused = False


# The note of the request being answered, if the idempotency middleware is keeping its answer.
my_number_refusal_var: ContextVar[RefusalNote | None] = ContextVar("my_number_refusal", default=None)
