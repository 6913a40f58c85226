"""Japanese is the UI's first language: every message has its translation, compiled."""

from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(p for p in ROOT.glob("**/locale/ja/LC_MESSAGES/django.po") if ".venv" not in p.parts)


def test_there_are_catalogues():
    assert len(CATALOGUES) >= 4


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_message_is_translated_and_compiled(po_path):
    po = polib.pofile(str(po_path))
    assert [e.msgid for e in po.untranslated_entries()] == []
    assert [e.msgid for e in po.fuzzy_entries() if e.msgid] == []
    compiled = {e.msgid: e.msgstr or e.msgstr_plural for e in polib.mofile(str(po_path.with_suffix(".mo")))}
    for entry in po.translated_entries():
        assert entry.msgid in compiled, f"{entry.msgid!r} is not in the .mo file: run make messages"
