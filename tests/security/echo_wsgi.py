"""A WSGI application that answers with what gunicorn put in its environ: the path fields and the
scheme, which forwarded headers change when gunicorn believes them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    seen = {name: environ.get(name, "") for name in ("SCRIPT_NAME", "PATH_INFO", "wsgi.url_scheme")}
    body = json.dumps(seen).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
