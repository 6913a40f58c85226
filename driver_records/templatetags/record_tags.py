from django import template
from django.core.exceptions import FieldDoesNotExist

from ..models import DriverRecord

register = template.Library()


@register.filter
def field_label(name: str) -> str:
    """A record field's name as the counter reads it (the history stores the field's code)."""
    try:
        return str(DriverRecord._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:  # a field since removed still shows by its code
        return name
