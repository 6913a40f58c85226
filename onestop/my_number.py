"""R14: finding a My Number (個人番号) in free text.

A My Number is twelve digits, the last a check digit (総務省令第85号 第5条). People write it
the way the card prints it (1234 5678 9012), in one run, or one digit per box, with whatever
their keyboard gives between the groups: spaces of either width, hyphens of every kind, dots,
slashes, commas, 「・」, underscores; in full-width or kanji digits; and next to other numbers
(「窓口2 1234 5678 9018」, a date just before it).

The text is read as *chains*: groups of digits joined by short runs of those separators; any
other character ends a chain. Inside a chain, whole groups totalling twelve digits are read as
one number when they are written as one:
- one group of twelve digits;
- the card's 4-4-4 with the same separator twice, or two of one kind when nothing else is
  chained to it (「1234ー5678－9018」: a Japanese keyboard's long-vowel mark and a hyphen);
- three or more groups of one size with the same separator between all of them (3-3-3-3,
  2-2-2-2-2-2, one digit per box).
Besides, the card's 4-4-4 with one separator, its first or last group glued to other digits
(「窓口21234-5678-9018」), gives its twelve digits. Such a number is a My Number when its
check digit is right.

Left alone, because they are not written as one twelve-digit number:
- a run of thirteen or more digits with nothing between them (a corporate number, a barcode);
- two groups (20240401-0001), groups of mixed sizes (a date and a year: 2024/04/01/2024), a
  4-4-4 with separators of two kinds ((03)1234-5678 2500円) or inside a longer chain
  (090-1234-5678 0120-...): numbers side by side are far likelier than a My Number written so;
- a dotted IPv4 address (four groups of at most three digits, each at most 255);
- a chain that follows a「+」(a telephone number with its country code: +81 90 1234 5678).
docs/security.md gives the rates measured on a corpus of ordinary text.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

LENGTH = 12
# At most this many separator characters between two groups of one number (「1234 - 5678」).
MAX_GAP = 3

# What people type between groups, by kind, after NFKC (which turns full-width forms into these:
# －→-, ．→., ／→/, ，→,, ＿→_, ･→・, ｡→。, ､→、, the ideographic space → a space).
_SEPARATOR_KINDS = {
    "hyphen": "-‐‑‒–—―−⁃˗﹣ー➖",  # ー: the long-vowel mark a Japanese keyboard gives for a hyphen
    "dot": ".・·•‧∙⋅。",  # 。: the period key of a Japanese keyboard
    "slash": "/⁄∕\\",
    "comma": ",、﹐﹑",
    "underscore": "_‗",
}
_KIND_OF = {char: kind for kind, chars in _SEPARATOR_KINDS.items() for char in chars}
_KANJI_DIGITS = {ch: str(i) for i, ch in enumerate("〇一二三四五六七八九")} | {"零": "0"}


def my_number_check_digit(first_eleven: str) -> int:
    """The check digit of a My Number (総務省令第85号 第5条) for its first eleven digits."""
    total = 0
    for n, digit in enumerate(reversed(first_eleven), start=1):
        weight = n + 1 if n <= 6 else n - 5
        total += int(digit) * weight
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def is_valid_my_number(digits: str) -> bool:
    """Twelve ASCII digits whose last is the check digit of the first eleven."""
    if len(digits) != LENGTH or not digits.isascii() or not digits.isdigit():
        return False
    return my_number_check_digit(digits[:11]) == int(digits[11])


def _digit(char: str) -> str | None:
    if char in _KANJI_DIGITS:
        return _KANJI_DIGITS[char]
    value = unicodedata.decimal(char, None)  # any script's decimal digits, not only ASCII
    return None if value is None else str(value)


def _kind(char: str) -> str | None:
    return "space" if char.isspace() else _KIND_OF.get(char)


def _is_separator(char: str) -> bool:
    return _kind(char) is not None


def _kinds(gap: str) -> tuple[str | None, ...]:
    """A gap's kinds of separator, repeats collapsed: 「ー」「－」 and 「--」 are all one hyphen."""
    kinds = [_kind(ch) for ch in gap]
    return tuple(kind for i, kind in enumerate(kinds) if i == 0 or kinds[i - 1] != kind)


def _normalise(text: str) -> str:
    # Invisible format characters (zero-width space, soft hyphen, BOM) are read as absent.
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) != "Cf")


@dataclass(frozen=True)
class _Group:
    digits: str
    gap: str  # the separators before it (empty for a chain's first group)


def _chains(text: str) -> Iterator[tuple[_Group, ...]]:
    """The text's chains of digit groups. A chain that follows a「+」is a telephone number with
    its country code (+81 3 1234 5678) and is left out."""
    groups: list[_Group] = []
    digits, gap = "", ""
    after_plus = previous_plus = False
    for char in _normalise(text) + "\x00":  # the NUL ends the last chain
        digit = _digit(char)
        if digit is not None:
            if not digits and not groups:
                after_plus = previous_plus
            digits += digit
            continue
        if digits:
            groups.append(_Group(digits, gap))
            digits, gap = "", ""
        if groups and _is_separator(char) and len(gap) < MAX_GAP:
            gap += char
        else:
            if groups and not after_plus:
                yield tuple(groups)
            groups, gap = [], ""
        previous_plus = char == "+"


def _is_ipv4(groups: tuple[_Group, ...]) -> bool:
    return len(groups) == 4 and all(len(g.digits) <= 3 and int(g.digits) <= 255 for g in groups)


def _written_as_one(groups: tuple[_Group, ...], *, alone: bool) -> bool:
    """Whether whole groups of a chain, twelve digits in all, are written as one number."""
    if len(groups) == 1:
        return True
    sizes = {len(g.digits) for g in groups}
    same_gap = len({g.gap for g in groups[1:]}) == 1
    if len(groups) == 3 and sizes == {4}:
        # The card's grouping. Two different separators of one kind (an IME's ー and a hyphen)
        # only when nothing else is chained to it.
        return same_gap or (alone and _kinds(groups[1].gap) == _kinds(groups[2].gap))
    # Equal groups (3-3-3-3, 2-2-2-2-2-2, one digit per box) with one separator between all of
    # them. Two groups (20240401-0001) are two numbers; a dotted address (192.168.100.200) is one.
    return len(groups) >= 3 and len(sizes) == 1 and same_gap and not (groups[1].gap == "." and _is_ipv4(groups))


def _twelve_digit_numbers(groups: tuple[_Group, ...]) -> Iterator[str]:
    for i in range(len(groups)):
        total = 0
        for j in range(i, len(groups)):
            total += len(groups[j].digits)
            if total > LENGTH:
                break
            if total == LENGTH and _written_as_one(groups[i : j + 1], alone=len(groups) == j + 1 - i):
                yield "".join(g.digits for g in groups[i : j + 1])
    # The card's grouping glued to other digits (「窓口21234-5678-9018」), one separator throughout.
    for a, b, c in zip(groups, groups[1:], groups[2:], strict=False):
        glued = len(a.digits) > 4 or len(c.digits) > 4
        if glued and len(b.digits) == 4 and min(len(a.digits), len(c.digits)) >= 4 and b.gap == c.gap:
            yield a.digits[-4:] + b.digits + c.digits[:4]


def my_numbers_in(text: str) -> Iterator[str]:
    """The My Numbers written in a text, as twelve ASCII digits each."""
    for chain in _chains(text):
        for number in _twelve_digit_numbers(chain):
            if is_valid_my_number(number):
                yield number


def contains_my_number(text: str) -> bool:
    return next(my_numbers_in(text), None) is not None


def digits_only(text: str) -> str:
    """The text's digits in ASCII when it is nothing but digits and separators, else ""."""
    out = []
    for char in _normalise(text).strip():
        digit = _digit(char)
        if digit is not None:
            out.append(digit)
        elif not _is_separator(char):
            return ""
    return "".join(out)
