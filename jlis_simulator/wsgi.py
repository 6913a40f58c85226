"""gunicorn jlis_simulator.wsgi --bind 127.0.0.1:8001 --worker-class gthread --threads 8 --workers 1

JLIS_SIM_DB: its SQLite file (default <ONESTOP_VAR_DIR>/jlis-simulator.sqlite3).
JLIS_SIM_JPKI_DIR: the JPKI-TEST hierarchy shared with the app (default <ONESTOP_VAR_DIR>/jpki-test,
the same directory as settings.JPKI_TEST_DIR).
"""

from __future__ import annotations

import os
from pathlib import Path

from .app import Simulator

VAR_DIR = Path(os.environ.get("ONESTOP_VAR_DIR", Path(__file__).resolve().parent.parent / "var"))

application = Simulator(
    db_path=Path(os.environ.get("JLIS_SIM_DB", VAR_DIR / "jlis-simulator.sqlite3")),
    jpki_dir=Path(os.environ.get("JLIS_SIM_JPKI_DIR", VAR_DIR / "jpki-test")),
)
