"""End-to-end journeys: Debian's chromium driven by Playwright against a live server.

Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls there
unless told that this thread is synchronous test code.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium"), headless=True, args=CHROMIUM_FLAGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(
        locale="ja-JP", timezone_id="Asia/Tokyo", base_url=live_server.url, viewport={"width": 1200, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(tmp_path: Path) -> Any:
    """Saves a screenshot under docs/screenshots when ONESTOP_SCREENSHOTS names it, else a tmp dir."""
    target = Path(os.environ.get("ONESTOP_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)

    def take(page: Any, name: str) -> Path:
        path = target / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def axe() -> Any:
    """Runs axe-core in the page and returns the serious and critical violations."""

    def check(page: Any) -> list[dict[str, Any]]:
        if not AXE.exists():
            pytest.fail("axe-core is not installed (make test installs it from the npm registry)")
        # Evaluated through the devtools protocol: the page's CSP (rightly) refuses inline scripts.
        page.evaluate(AXE.read_text() + "\n;0")
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    return check


def log_in(page: Any, username: str, password: str, totp_key_hex: str | None = None) -> None:
    """Logs in through the real forms, the second factor included when the user has one."""
    page.goto("/accounts/login/")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    if totp_key_hex:
        from django_otp.oath import totp

        page.wait_for_url("**/accounts/second-factor/**")
        page.get_by_label("認証アプリに表示される6桁のコード").fill(f"{totp(bytes.fromhex(totp_key_hex)):06d}")
        page.get_by_role("button", name="確認").click()
    # Returns on the page the login lands on, loaded: a click only starts the redirect, and a
    # test typing at once would type into the login form's page.
    page.wait_for_url(lambda url: "/accounts/" not in url)
    page.wait_for_load_state()
