"""Benchmarks: `python -m bench [B1 B4 ...]` runs each bench/b<N>_*.py module's run()."""
