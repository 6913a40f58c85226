"""The J-LIS simulator: a separate small web service that speaks docs/jlis-protocol.md.

Its own process (gunicorn `jlis_simulator.wsgi`) and its own store (SQLite). It plays J-LIS and
the rest of the world (the municipal office, the holder on Mynaportal or JPKI Mobile) from its
page at / and from its control endpoints, which `python manage.py jlis_simulator` drives.
A test double for development and tests: it has no authentication and is never deployed.
"""
