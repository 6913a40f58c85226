"""What the counter terminal's end-to-end tests share: the demo's Tokyo counter with a terminal
token, the holder's card, and the holder's screen in its own browser context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from consents.jpki.testcard import CardHolder
from consents.models import ConsentStatement
from consents.services import statement_create
from consents.services.terminals import terminal_create
from driver_records.models import DriverRecord
from onestop.demo import seed_demo
from onestop.models import User


@dataclass
class Counter:
    record: DriverRecord
    clerk: User
    token: str

    @property
    def holder(self) -> CardHolder:
        return CardHolder(name=self.record.name, address=self.record.address, birth_date=self.record.birth_date)

    def statement(self) -> ConsentStatement:
        """A statement the clerk made for this holder (as the counter page makes it)."""
        return statement_create(record_id=self.record.pk, items=["address", "name"], actor=self.clerk)


def tokyo_counter() -> Counter:
    seed_demo()
    record = DriverRecord.objects.filter(prefecture="13", holding_status="licence_card_only").order_by("pk").first()
    clerk = User.objects.get(username="clerk")
    _terminal, token = terminal_create(name="counter 1", office=clerk.office, actor=None)
    return Counter(record, clerk, token)


def holder_screen(browser: Any, *, locale: str = "ja-JP") -> tuple[Any, Any]:
    """A browser context and page as the counter PC's kiosk browser shows the terminal."""
    context = browser.new_context(locale=locale, timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(30_000)
    return context, context.new_page()


class AnswerLosingProxy:
    """Between the terminal and the server: forwards every request, but of the first signature
    POST it forwards the request and then drops the connection instead of the answer, as a
    network cut after the server did the work. It notes each signature POST it saw."""

    def __init__(self, upstream: str) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import requests

        proxy = self
        self.upstream = upstream.rstrip("/")
        self.signature_posts: list[tuple[str, bytes]] = []  # (Idempotency-Key, body)
        self.lost = 0

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                answer = requests.request(
                    self.command, proxy.upstream + self.path, headers=headers, data=body, timeout=60
                )
                if self.command == "POST" and self.path.endswith("/signature/"):
                    proxy.signature_posts.append((self.headers.get("Idempotency-Key", ""), body))
                    if proxy.lost == 0:
                        proxy.lost += 1
                        self.close_connection = True
                        return  # the answer never reaches the terminal
                self.send_response(answer.status_code)
                for name in ("Content-Type", "Content-Language"):
                    if name in answer.headers:
                        self.send_header(name, answer.headers[name])
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
