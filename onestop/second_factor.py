"""The TOTP second factor (django-otp), required of every account that signs in: every role reads
personal data (clerks and supervisors their prefecture's holders, auditors everyone's), whatever
its flags. A user without a device enrols on first login, with a one-time enrolment code from an
operator (onestop/enrolment.py); afterwards each login asks for a code."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from urllib.parse import urlencode

import django_otp
import qrcode
import qrcode.image.svg
from django import forms
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.views import APIView

from .audit import AuditEntry, audit_log
from .audit_actions import AuditAction
from .enrolment import enrolment_code_redeem
from .lockout import session_key_renew
from .models import User
from .validators import NoMyNumber

DEVICE_NAME = "authenticator"


def needs_second_factor(user: User) -> bool:
    """Every signed-in account (issue 17, finding 3: an auditor without `is_staff` was never
    asked). Deciding by role or flag would let an account that a role or flag forgot read
    personal data on a password alone; an account with no role reaches nothing anyway."""
    return bool(user.is_authenticated)


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("6-digit code from your authenticator app"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}),
    )

    def clean_token(self) -> str:
        token: str = self.cleaned_data["token"].strip()
        if not token.isascii() or not token.isdigit():
            raise forms.ValidationError(_("Enter the 6 digits shown in your authenticator app."))
        return token


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("counter:home")


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


class EnrolmentCodeForm(forms.Form):
    enrolment_code = forms.CharField(
        label=gettext_lazy("Enrolment code from your administrator"),
        max_length=32,
        # A code is letters only; twelve digits typed here are refused before anything compares them (R14).
        validators=[NoMyNumber(gettext_lazy("Enrolment code from your administrator"))],
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "autofocus": True}),
    )


# The unconfirmed device whose secret this session, and only this one, may show: set when the
# session gives an enrolment code (onestop/enrolment.py).
ENROLMENT_SESSION_KEY = "second_factor_enrolment_device"


def _enrolment_device(request: HttpRequest, user: User) -> TOTPDevice | None:
    pk = request.session.get(ENROLMENT_SESSION_KEY)
    return TOTPDevice.objects.filter(pk=pk, user=user, confirmed=False).first() if pk else None


def _enrolment_code_step(request: HttpRequest, user: User) -> HttpResponse:
    """No device yet, and this session has not given an enrolment code: ask for it. The password
    alone never shows a secret."""
    posted = request.method == "POST" and "enrolment_code" in request.POST
    form = EnrolmentCodeForm(request.POST if posted else None)
    if form.is_valid():
        device = enrolment_code_redeem(user=user, code=form.cleaned_data["enrolment_code"])
        if device is not None:
            request.session[ENROLMENT_SESSION_KEY] = device.pk
            return redirect(f"{reverse('second_factor')}?{urlencode({'next': _safe_next(request)})}")
        form.add_error(
            "enrolment_code",
            _("That enrolment code is not right, has been used or has expired. Ask your administrator for a new one."),
        )
    context = {"code_form": form, "needs_code": True, "next": _safe_next(request)}
    return render(request, "registration/second_factor.html", context)


@login_required
def second_factor(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if enrolling:
        device = _enrolment_device(request, user)
        if device is None:
            return _enrolment_code_step(request, user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _info = device.verify_is_allowed()
        if not allowed:
            # django-otp slows guessing down: each wrong code doubles the wait before the next.
            form.add_error(
                "token", _("Too many wrong codes in a row. Wait a few seconds, then enter the current code.")
            )
        elif device.verify_token(form.cleaned_data["token"]):
            with transaction.atomic(durable=True):
                if enrolling:
                    device.confirmed = True
                    device.save(update_fields=["confirmed"])
                audit_log(
                    AuditEntry(
                        action=AuditAction.AUTH_SECOND_FACTOR_ENROLLED
                        if enrolling
                        else AuditAction.AUTH_SECOND_FACTOR_VERIFIED,
                        subject_type="user",
                        subject_id=str(user.pk),
                        actor=user,
                    )
                )
            request.session.pop(ENROLMENT_SESSION_KEY, None)
            django_otp.login(request, device)
            # A new key for the session that now reads personal data: a copy of the cookie taken
            # while it was worth nothing (the password alone) must not become worth both factors.
            session_key_renew(request)
            return redirect(_safe_next(request))
        form.add_error("token", _("That code is not right, or it has expired. Try the current code."))
    # Every name the template asks for is given: a missing one makes the template engine log the
    # whole context (the secret included) at DEBUG.
    context = {"form": form, "enrolling": enrolling, "needs_code": False, "next": _safe_next(request)}
    if enrolling:
        context["secret"] = base64.b32encode(device.bin_key).decode()
        context["qr_svg"] = _qr_svg(device.config_url)
    return render(request, "registration/second_factor.html", context)


# The views a user who has not yet given the second factor may reach: signing in and out, giving
# it, the language switch, and the machine endpoints (which hold no personal data). Static files
# are served before this check (whitenoise).
EXEMPT_VIEWS = frozenset({"login", "logout", "second_factor", "set_language", "healthz", "healthz-ready", "metrics"})


def _resolved(request: HttpRequest) -> tuple[str | None, bool]:
    """The name of the view Django will run for this request, and whether it is an API view.

    Decided on `path_info`, which Django routes on, never on `path`: `path` starts with
    SCRIPT_NAME, which a forwarded header or a proxy can set (issue 17, finding 1: with
    `SCRIPT_NAME: /accounts` every page looked like a login page)."""
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return None, request.path_info.startswith("/api/")  # the API's own 404s are JSON too
    return match.view_name, _is_api_view(match.func)


def _is_api_view(func: Callable[..., HttpResponse]) -> bool:
    """An API view answers JSON: a DRF view (as_view() leaves its class on the function)."""
    view_class = getattr(func, "cls", None) or getattr(func, "view_class", None)
    return isinstance(view_class, type) and issubclass(view_class, APIView)


class SecondFactorRequiredMiddleware:
    """Until a signed-in user has passed the second factor, every page sends them there and the
    API refuses them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and needs_second_factor(user) and not user.is_verified():  # type: ignore[attr-defined]  # django-otp's middleware adds it
            view_name, api = _resolved(request)
            if view_name not in EXEMPT_VIEWS:
                if api:
                    return JsonResponse(
                        {"code": "second_factor_required", "message": _("Confirm your second factor first.")},
                        status=403,
                    )
                return redirect(f"{reverse('second_factor')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
