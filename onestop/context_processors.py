from django.conf import settings
from django.http import HttpRequest

from .roles import is_auditor, is_counter_staff, is_supervisor


def staff_context(request: HttpRequest) -> dict[str, object]:
    user = request.user
    return {
        "is_counter_staff": is_counter_staff(user),
        "is_supervisor": is_supervisor(user),
        "is_auditor": is_auditor(user),
        "demo_mode": settings.DEMO_MODE,
    }
