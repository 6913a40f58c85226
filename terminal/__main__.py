"""python -m terminal: the counter terminal, serving the holder's screen on 127.0.0.1.

    ONESTOP_TERMINAL_TOKEN=ost_... python -m terminal --server https://onestop.example.jp

The token is the one `manage.py terminal_create` printed (from the environment or a file, never
the command line, which other users of the PC can read). Open http://127.0.0.1:8765/ in the
kiosk browser.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import logging
import os
import sys
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

log = logging.getLogger("terminal")


class QuietHandler(WSGIRequestHandler):
    """No access log: the terminal logs its own events (settings.LOGGING)."""

    def log_message(self, format: str, *args: object) -> None:
        return


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m terminal", description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=os.environ.get("ONESTOP_SERVER_URL"), help="the onestop server's URL")
    parser.add_argument(
        "--token-file", type=Path, help="a file holding the terminal token (else ONESTOP_TERMINAL_TOKEN)"
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("ONESTOP_TERMINAL_PORT", "8765")))
    parser.add_argument(
        "--reader", default=os.environ.get("ONESTOP_TERMINAL_READER") or None, help="the PC/SC reader name"
    )
    options = parser.parse_args(argv)
    if not options.server:
        parser.error("give --server or ONESTOP_SERVER_URL")
    token = (
        options.token_file.read_text().strip() if options.token_file else os.environ.get("ONESTOP_TERMINAL_TOKEN", "")
    )
    if not token:
        parser.error("give --token-file or ONESTOP_TERMINAL_TOKEN (from manage.py terminal_create)")
    options.token = token
    return options


def main(argv: list[str] | None = None) -> None:
    options = arguments(argv)
    os.environ["DJANGO_SETTINGS_MODULE"] = "terminal.settings"
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    from . import runtime
    from .reader import open_card
    from .server import ServerClient
    from .signing import Desk

    runtime.install(Desk(ServerClient(options.server, options.token), functools.partial(open_card, options.reader)))
    application = get_wsgi_application()
    # One request at a time: one reader, one holder; the card is never asked two things at once.
    with make_server("127.0.0.1", options.port, application, handler_class=QuietHandler) as server:
        log.info("the holder's screen is at http://127.0.0.1:%s/ (server %s)", server.server_port, options.server)
        print(f"onestop terminal ready on http://127.0.0.1:{server.server_port}/", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
