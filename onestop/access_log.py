"""The web server's access lines (gunicorn.conf.py's logger_class): gunicorn's, with every value
written like a My Number withheld (R14). The path and the browser's description (User-Agent)
are the client's text: anyone, signed in or not, could otherwise put one into the log."""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]  # gunicorn ships no types

from .my_number import contains_my_number

WITHHELD = "(withheld: written like a My Number)"
_ATOM = re.compile(r"%\(([^)]+)\)s")


class AccessLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        # Only the atoms the line is written with (the format names a few of the dozens made).
        for name in _ATOM.findall(self.cfg.access_log_format):
            value = atoms.get(name)
            if isinstance(value, str) and contains_my_number(value):
                atoms[name] = WITHHELD
        return atoms
