"""The REST API for the counter terminal, under /api/v1/."""
