"""How names and record numbers typed at the counter are compared with the records."""

import re
import unicodedata

from .kanji_variants import variants_fold

# The stored key: the whole name folded, a space, then the given name folded. The database
# derives `given_key` (the part after the space) from it, so whatever writes a name through
# name_search_key (the services, the applier, the demo) keeps both searches current.
KEY_SEPARATOR = " "
NAME_KEY_LENGTH = 255
# Variation selectors (IVS and the standardized ones) pick a glyph, not another character.
_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")
# Between the parts of a name: spaces of either width (NFKC makes them one), 「・」 and tabs.
_PART_BREAK = re.compile(r"[\s・]+")


def name_parts(text: str) -> list[str]:
    """The parts of a name (family, given ...), each folded: NFKC (widths), case, variant kanji,
    glyph selectors dropped, 「々」 written out (佐々木 and 佐佐木 are the same name)."""
    folded = variants_fold(_SELECTORS.sub("", unicodedata.normalize("NFKC", text)).casefold())
    return [_repeat_marks(part) for part in _PART_BREAK.split(folded) if part]


def _repeat_marks(part: str) -> str:
    out: list[str] = []
    for ch in part:
        out.append(out[-1] if ch == "々" and out else ch)
    return "".join(out)


def name_search_key(name: str) -> str:
    """The key stored with a record's name: whole name, separator, given name."""
    parts = name_parts(name)
    return ("".join(parts) + KEY_SEPARATOR + "".join(parts[1:]))[:NAME_KEY_LENGTH]


def name_query_key(text: str) -> str:
    """What a clerk typed, folded like the names: compared with the start of the stored keys."""
    return "".join(name_parts(text))


def record_number_input(value: str) -> str:
    """A record number as typed at the counter (full-width digits, spaces, hyphens allowed)."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", value) if ch not in " -")
