"""The id of the request or task being served, for logs and the audit trail."""

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="")
