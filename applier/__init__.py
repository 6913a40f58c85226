"""Applying J-LIS events to driver records (R2, R10-R13), set-wise in batches (batch.py). The
decision (decide.py) is pure, so the per-event path the tests keep (tests/support/one_by_one.py)
must give the same result.

The package imports nothing at start-up (Django loads it before the models): import from its
modules, e.g. `from applier.batch import events_apply_pending`."""
