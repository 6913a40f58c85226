"""The running terminal's desk (set once by terminal.__main__, or by a test harness)."""

from __future__ import annotations

from .signing import Desk

_desk: Desk | None = None


def install(desk: Desk) -> None:
    global _desk
    _desk = desk


def desk() -> Desk:
    if _desk is None:
        raise RuntimeError("the terminal was not started with python -m terminal")
    return _desk
