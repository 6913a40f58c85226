from django.apps import AppConfig


class ApplierConfig(AppConfig):
    """J-LIS events -> driver records. No models: it reads the inbox through the gateway's
    selectors, the governing consent through consents, and writes the records it changes."""

    name = "applier"
    label = "applier"
