"""How long the service keeps what it no longer needs, by default (ONESTOP_RETAIN_* override).

settings.py reads the environment over these numbers and the personal-data map quotes them, so
docs/personal-data.md says what a deployment without overrides does. Why each number:
docs/personal-data.md, "How long things are kept". No Django import: settings.py imports this.
"""

from __future__ import annotations

# J-LIS's events, counted from the Japan day they were applied or skipped. What an applied event
# changed is in the record's history; the event itself serves only to look into a question about
# an update (a holder's call, an auditor's check, J-LIS's desk), which comes within weeks.
JLIS_EVENTS_DAYS = 90
# The record's history, counted from the Japan day of the change: a consent lasts at most ten
# years from its consent date (R5), which comes before any change made under it, so ten years
# after a change the consent that allowed it has ended, and with it any disclosure request (R16)
# or audit about what J-LIS gave under it. 3653 days: ten years, leap days included.
HISTORY_DAYS = 3653
# Answers kept to replay a repeated form or API request: a double click or a client's retry
# comes within seconds or minutes; a day covers a client that retries after an outage.
IDEMPOTENT_ANSWERS_HOURS = 24
# Rows deleted per transaction: short transactions, so no table is locked for long.
BATCH_ROWS = 1000
