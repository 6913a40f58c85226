"""The gateway monitor: is J-LIS being read and written, what is stuck, and whether each CA's CRL is
current enough for consents to be accepted (oversight roles)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from kombu.exceptions import OperationalError

from onestop.permissions import OVERSIGHT, SUPERVISORS, role_required

from .consent_side import consent_side
from .selectors import gateway_status
from .tasks import poll_events

logger = logging.getLogger(__name__)


@role_required(*OVERSIGHT)
@require_safe
def monitor(request: HttpRequest) -> HttpResponse:
    status = gateway_status()
    polling = bool(status.poll and status.poll.claimed_until and status.poll.claimed_until > timezone.now())
    context = {
        "status": status,
        "polling": polling,
        "crls": consent_side().crl_states(),
        "crl_grace_hours": settings.JPKI_CRL_GRACE_HOURS,
    }
    return render(request, "jlis_gateway/monitor.html", context)


@role_required(*SUPERVISORS)
@require_POST
def poll_now(request: HttpRequest) -> HttpResponse:
    try:
        poll_events.delay()
    except OperationalError:
        logger.warning("poll now: the task broker is unreachable (user %s)", request.user.pk)
        messages.error(request, _("The poll could not be queued: the task queue is unreachable. Try again later."))
    else:
        logger.info("poll now queued by user %s", request.user.pk)
        messages.success(request, _("A poll has been queued. Reload this page in a moment to see its result."))
    return redirect("gateway:monitor")
