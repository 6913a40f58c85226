import unicodedata


def name_search_key(name: str) -> str:
    """A key for matching names typed any way: NFKC, no spaces, case-folded."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(folded.split())


def record_number_input(value: str) -> str:
    """A record number as typed at the counter (full-width digits, spaces, hyphens allowed)."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", value) if ch not in " -")
