"""The reference model of the rules (holders.py, japan.py) and the tests that hold the system to it."""
