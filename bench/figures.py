"""Figures measured earlier in this run, for a later benchmark to compare with (B2 uses B1's)."""

measured: dict[str, float] = {}
