"""Text for the R14 tests, written from the rules and from how Japanese text is typed, with no
import of the application: an independent My Number check digit, the ways people write a
number, realistic text around it, licence numbers, and the ordinary numbers (dates, telephone
numbers, postal codes, reference numbers) that must pass."""

from __future__ import annotations

import random

from hypothesis import strategies as st

# 総務省令第85号 第5条: P1..P11 numbered from the right, Q = n+1 (n <= 6) and n-5 (n >= 7).
# Written out left to right (P11 first), the weights are these.
WEIGHTS = (6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def check_digit(first_eleven: str) -> int:
    remainder = sum(int(d) * w for d, w in zip(first_eleven, WEIGHTS, strict=True)) % 11
    return 0 if remainder <= 1 else 11 - remainder


def passes_check(twelve: str) -> bool:
    return len(twelve) == 12 and twelve.isdigit() and check_digit(twelve[:11]) == int(twelve[11])


def with_check_digit(first_eleven: str) -> str:
    return first_eleven + str(check_digit(first_eleven))


def without_check_digit(first_eleven: str, shift: int) -> str:
    """Twelve digits whose last is any digit but the check digit (shift 1..9)."""
    return first_eleven + str((check_digit(first_eleven) + shift) % 10)


# --- how a number is written -----------------------------------------------------------------

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
KANJI = str.maketrans("0123456789", "〇一二三四五六七八九")
SEPARATOR_KINDS = {
    "space": [" ", "　", "  "],  # ASCII, full-width (ideographic), two
    "hyphen": [
        "-",
        "－",  # full-width hyphen-minus
        "‐",  # hyphen
        "‑",  # non-breaking hyphen
        "–",  # en dash
        "—",  # em dash
        "―",  # horizontal bar
        "−",  # minus sign
        "ー",  # the long-vowel mark a Japanese keyboard types for a hyphen
        "ｰ",  # its half-width form
    ],
    "dot": [".", "．", "。", "・", "･"],  # 。: the period key of a Japanese keyboard
    "slash": ["/", "／"],
    "comma": [",", "，", "、"],
    "underscore": ["_", "＿"],
    "spaced hyphen": [" - ", " ー "],
    "invisible": ["\u200b"],  # a zero-width space
}
SEPARATORS = [sep for seps in SEPARATOR_KINDS.values() for sep in seps]
# How My Numbers are written: as on the card, in one run, by threes, by twos, one digit per box.
# Two groups (8-4, 6-6) and uneven ones (4-2-2-4) are left out: the detector reads them as numbers
# side by side (a date and a serial), the far likelier meaning (docs/security.md).
GROUPINGS = [(12,), (4, 4, 4), (3, 3, 3, 3), (2,) * 6, (1,) * 12]


def _split(digits: str, grouping: tuple[int, ...]) -> list[str]:
    out, start = [], 0
    for size in grouping:
        out.append(digits[start : start + size])
        start += size
    return out


@st.composite
def written(draw: st.DrawFn, number: str) -> str:
    """A twelve-digit number as someone may type it: grouped, with one separator between all the
    groups, in ASCII, full-width or kanji digits (mixed too)."""
    groups = _split(draw(digit_forms(number)), draw(st.sampled_from(GROUPINGS)))
    return draw(st.sampled_from(SEPARATORS)).join(groups)


@st.composite
def digit_forms(draw: st.DrawFn, number: str) -> str:
    forms = st.sampled_from([{}, FULL_WIDTH, KANJI])
    return "".join(ch.translate(draw(forms)) for ch in number)  # type: ignore[arg-type]


# What a clerk writes around it. The prefixes that end in a digit put the number beside another.
PREFIXES = [
    "",
    "本人が「個人番号は ",
    "窓口2 ",
    "窓口２　",
    "2024/04/01 ",
    "2024-04-01 ",
    "令和6年4月1日、",
    "R6.4.1 ",
    "受付 10:30 ",
    "TEL 03-1234-5678 ",
    "〒100-8977 ",
    "申出書の番号欄に",
    "番号：",
    "No.",
]
SUFFIXES = ["", "」と申し出た。", " です", "（本人申告）", " 2024/04/01", " 窓口3", "。TEL 090-1234-5678", "\n以上"]


@st.composite
def my_number_in_text(draw: st.DrawFn) -> str:
    number = with_check_digit(draw(st.text("0123456789", min_size=11, max_size=11)))
    return draw(st.sampled_from(PREFIXES)) + draw(written(number)) + draw(st.sampled_from(SUFFIXES))


@st.composite
def card_form_mixed_separators(draw: st.DrawFn) -> str:
    """The card's 4-4-4 with two different separators of one kind (as an IME mixes ー and －),
    alone between words."""
    number = draw(digit_forms(with_check_digit(draw(st.text("0123456789", min_size=11, max_size=11)))))
    kind = draw(st.sampled_from([k for k, seps in SEPARATOR_KINDS.items() if len(seps) > 1]))
    gaps = draw(st.lists(st.sampled_from(SEPARATOR_KINDS[kind]), min_size=2, max_size=2))
    return f"本人申出「{number[:4]}{gaps[0]}{number[4:8]}{gaps[1]}{number[8:]}」を確認"


@st.composite
def glued_card_form(draw: st.DrawFn) -> str:
    """The card's 4-4-4 with other digits glued to its first or last group (no separator)."""
    number = with_check_digit(draw(st.text("0123456789", min_size=11, max_size=11)))
    before = draw(st.text("0123456789", max_size=3))
    after = draw(st.text("0123456789", max_size=3))
    sep = draw(st.sampled_from([" ", "-", "　", "・"]))
    return f"窓口{before}{number[:4]}{sep}{number[4:8]}{sep}{number[8:]}{after}番"


# --- licence numbers (DOMAIN.md): commission code, year first licensed, number, check, reissues ---

# The public-safety commissions' codes (two digits) that open a licence number.
COMMISSION_CODES = [
    "10", "11", "12", "13", "14", "20", "21", "22", "23", "24", "25", "30", "40", "41", "42", "43", "44", "45",
    "46", "47", "48", "49", "50", "51", "52", "53", "54", "55", "60", "61", "62", "63", "64", "65", "70", "71",
    "72", "73", "74", "80", "81", "82", "83", "90", "91", "92", "93", "94", "95", "96", "97",
]  # fmt: skip


@st.composite
def licence_numbers(draw: st.DrawFn, *, passing: bool | None = None) -> str:
    """A licence number. Its own check digit's rule is not public (any digit here); the last digit
    counts reissues, mostly 0. passing=True: one whose 12 digits also pass the My Number check."""
    first_eleven = (
        draw(st.sampled_from(COMMISSION_CODES))
        + draw(st.text("0123456789", min_size=2, max_size=2))
        + draw(st.text("0123456789", min_size=6, max_size=6))
        + draw(st.sampled_from("0123456789"))
    )
    if passing:
        return with_check_digit(first_eleven)
    return first_eleven + draw(st.sampled_from("0000000123"))


# --- ordinary text: the numbers that must never be refused ------------------------------------


def _d(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def date_text(rng: random.Random) -> str:
    y, m, d = rng.randint(1940, 2035), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice(
        [
            f"{y}/{m:02d}/{d:02d}",
            f"{y}/{m}/{d}",
            f"{y}-{m:02d}-{d:02d}",
            f"{y}.{m}.{d}",
            f"{y}年{m}月{d}日",
            f"令和{rng.randint(1, 7)}年{m}月{d}日",
            f"R{rng.randint(1, 7)}.{m}.{d}",
            f"H{rng.randint(1, 31)}.{m}.{d}",
            f"{y}{m:02d}{d:02d}",
            f"{m}/{d}",
            f"{m}月{d}日",
        ]
    )


def time_text(rng: random.Random) -> str:
    h, mi = rng.randint(8, 18), rng.choice([0, 10, 15, 20, 30, 45])
    return rng.choice(
        [f"{h}:{mi:02d}", f"{h}時{mi}分", f"午後{h - 12 if h > 12 else h}時", f"{h}:{mi:02d}～{h + 1}:00"]
    )


def phone_text(rng: random.Random) -> str:
    return rng.choice(
        [
            f"03-{_d(rng, 4)}-{_d(rng, 4)}",
            f"06-{_d(rng, 4)}-{_d(rng, 4)}",
            f"0{rng.randint(1, 9)}{_d(rng, 2)}-{_d(rng, 2)}-{_d(rng, 4)}",
            f"0{rng.choice('789')}0-{_d(rng, 4)}-{_d(rng, 4)}",
            f"0{rng.choice('789')}0{_d(rng, 8)}",
            f"0120-{_d(rng, 3)}-{_d(rng, 3)}",
            f"(03){_d(rng, 4)}-{_d(rng, 4)}",
            f"03({_d(rng, 4)}){_d(rng, 4)}",
            f"０３－{_d(rng, 4)}－{_d(rng, 4)}".translate(FULL_WIDTH),
            f"+81-{rng.choice('789')}0-{_d(rng, 4)}-{_d(rng, 4)}",
            f"+81 3 {_d(rng, 4)} {_d(rng, 4)}",
            f"内線{_d(rng, 4)}",
        ]
    )


def postal_text(rng: random.Random) -> str:
    code = f"{_d(rng, 3)}-{_d(rng, 4)}"
    return rng.choice([f"〒{code}", code, f"〒{code.translate(FULL_WIDTH)}", f"〒{code.replace('-', '')}"])


def reference_text(rng: random.Random) -> str:
    letters = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    ref = "".join(rng.choice(letters) for _ in range(8))
    return rng.choice(
        [
            f"D{rng.randint(2024, 2030)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}-{ref}",  # a disclosure's
            f"受付番号{_d(rng, 6)}",
            f"No.{_d(rng, rng.randint(3, 8))}",
            f"領収書番号 {_d(rng, 4)}-{_d(rng, 6)}",
            f"第{rng.randint(1, 9999)}号",
            f"S{rng.randint(1, 99999)}",
            f"事案番号 {rng.randint(2024, 2030)}-{_d(rng, 5)}",
            f"問合せ番号 {_d(rng, 10)}",
            f"証明書シリアル{_d(rng, 4)}",
        ]
    )


def amount_text(rng: random.Random) -> str:
    n = rng.choice([300, 1000, 2500, 12000, 1234567, 98765432])
    return rng.choice([f"{n:,}円", f"{n}円", f"￥{n:,}", f"{n:,}"])


def address_text(rng: random.Random) -> str:
    return rng.choice(
        [
            f"東京都千代田区霞が関{rng.randint(1, 3)}丁目{rng.randint(1, 9)}番{rng.randint(1, 20)}号",
            f"大阪市北区梅田{rng.randint(1, 3)}-{rng.randint(1, 20)}-{rng.randint(1, 30)}",
            f"札幌市中央区北{rng.randint(1, 20)}条西{rng.randint(1, 20)}丁目{rng.randint(1, 9)}-{rng.randint(1, 9)}",
            f"{rng.randint(1, 3)}-{rng.randint(1, 20)}-{rng.randint(1, 30)} {rng.randint(101, 1205)}号室",
        ]
    )


def other_number_text(rng: random.Random) -> str:
    return rng.choice(
        [
            f"{rng.randint(1, 5)}件",
            f"{rng.randint(18, 95)}歳",
            f"窓口{rng.randint(1, 12)}",
            f"第{rng.randint(1, 11)}条第{rng.randint(1, 5)}項",
            f"{rng.randint(1, 300)}分",
            f"{rng.randint(1, 9)}回目",
            f"IP {rng.randint(1, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            f"ver.{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}",
        ]
    )


NUMBER_MAKERS = [date_text, time_text, phone_text, postal_text, reference_text, amount_text, address_text]
NUMBER_MAKERS.append(other_number_text)
WORDS = [
    "本人から申出あり",
    "窓口で確認",
    "電話連絡",
    "代理人",
    "委任状あり",
    "再来庁予定",
    "転居のため",
    "運転免許証を提示",
    "手数料受領",
    "不正アクセスの疑い",
    "本人確認済み",
    "申出書受付",
    "連絡先",
    "受付",
    "来庁",
]
JOINERS = ["、", "。", " ", "　", "：", "（", "）", "\n", "／"]


def ordinary_text(rng: random.Random) -> str:
    """A note as staff write it: words and up to four of the ordinary numbers above."""
    parts: list[str] = []
    for _ in range(rng.randint(1, 4)):
        if rng.random() < 0.7:  # else this number follows the last one with only a joiner between
            parts += [rng.choice(WORDS), rng.choice(JOINERS)]
        parts += [rng.choice(NUMBER_MAKERS)(rng), rng.choice(JOINERS)]
    return "".join(parts).strip()


@st.composite
def ordinary_texts(draw: st.DrawFn) -> str:
    return ordinary_text(random.Random(draw(st.integers(0, 2**32 - 1))))
