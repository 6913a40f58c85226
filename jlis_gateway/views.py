"""The gateway monitor: is J-LIS being read and written, what is stuck, and whether each CA's CRL is
current enough for consents to be accepted (oversight roles)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from kombu.exceptions import OperationalError

from consents.jpki.revocation import crl_states
from driver_records.access import HolderAccess, holder_require
from onestop.permissions import OVERSIGHT, SUPERVISORS, role_required, staff_user

from .models import OutboxMessage
from .selectors import gateway_status
from .services.resend import ResendRefused, outbox_resend, resend_refusal
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
        "crls": crl_states(),
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


@role_required(*SUPERVISORS)
@require_http_methods(["GET", "HEAD", "POST"])
def outbox_resend_view(request: HttpRequest, message_id: int) -> HttpResponse:
    """Send again a message the relay gave up on: the page says what will be sent, the POST
    with its confirmation does it (the service asks again under lock)."""
    message = get_object_or_404(OutboxMessage.objects.select_related("consent__record"), pk=message_id)
    holder_require(request.user, message.consent.record, HolderAccess.WRITE)  # R4: the holder's counters
    refusal = resend_refusal(message)
    context = {
        "message": message,
        "record": message.consent.record,
        "refusal": ResendRefused(refusal) if refusal else None,
    }
    if request.method != "POST" or request.POST.get("confirmed") != "1":
        return render(request, "jlis_gateway/resend.html", context)
    try:
        outbox_resend(message_id=message.pk, actor=staff_user(request))
    except ResendRefused as refused:
        messages.error(request, refused.message)
        return render(request, "jlis_gateway/resend.html", context)
    logger.info("outbox row %s sent again by user %s", message.pk, request.user.pk)
    messages.success(request, _("The message will be sent to J-LIS again, with the same key."))
    return redirect("consents:worklist")
