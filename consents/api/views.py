"""API views: statements, signatures, consent status. Errors are always `{code, message}`."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler

from driver_records.access import HolderAccess, holder_access
from driver_records.selectors import record_or_404
from onestop.audit import AuditEntry, audit_log
from onestop.audit_actions import AuditAction
from onestop.idempotency import HEADER as IDEMPOTENCY_HEADER
from onestop.idempotency import KEY_SHAPE as IDEMPOTENCY_KEY_SHAPE
from onestop.models import User

from ..errors import ConsentRefused, explain
from ..models import ConsentStatement, CounterTerminal
from ..selectors import consent_status, statements_open
from ..services import consent_register, statement_create
from ..services._common import audit_who
from .auth import CounterStaff, CounterStaffOrTerminal, ReaderOrTerminal, TerminalTokenAuthentication
from .serializers import (
    ConsentSerializer,
    ConsentStatusSerializer,
    ErrorSerializer,
    SignatureSerializer,
    StatementCreateSerializer,
    StatementSerializer,
)

MAX_BODY_BYTES = 64 * 1024
SCHEMA_LANGUAGES = [code for code, _name in settings.LANGUAGES]
SCHEMA_FORMATS = ["json", "yaml"]  # the format parameter drf-spectacular documents for its renderers

REFUSAL_STATUS = {
    "record_not_found": 404,
    "statement_not_found": 404,
    "consent_not_found": 404,
    "not_counter_staff": 403,
    "forbidden": 403,
    "statement_other_office": 403,
    "statement_used": 409,
    "statement_expired": 410,
    "terms_changed": 410,
    "validation_error": 400,
    "no_items": 400,
    "unknown_item": 400,
}
EXCEPTION_CODES: list[tuple[type[exceptions.APIException], str]] = [
    (exceptions.NotAuthenticated, "not_authenticated"),
    (exceptions.AuthenticationFailed, "not_authenticated"),
    (exceptions.PermissionDenied, "forbidden"),
    (exceptions.NotFound, "not_found"),
    (exceptions.MethodNotAllowed, "method_not_allowed"),
    (exceptions.UnsupportedMediaType, "unsupported_media_type"),
    (exceptions.NotAcceptable, "not_acceptable"),
    (exceptions.Throttled, "throttled"),
    (exceptions.ParseError, "validation_error"),
    (exceptions.ValidationError, "validation_error"),
]


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "too_large"


class IdempotencyKeyRequired(exceptions.APIException):
    status_code = 400
    default_detail = gettext_lazy("Every POST needs an Idempotency-Key header.")
    default_code = "idempotency_key_required"


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error as `{code, message}` (plus `errors` per field for a validation error)."""
    if isinstance(exc, ConsentRefused):
        return Response({"code": exc.code, "message": exc.message}, status=REFUSAL_STATUS.get(exc.code, 422))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    code = next((c for cls, c in EXCEPTION_CODES if isinstance(exc, cls)), exc.default_code)
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"code": code, "message": explain(code), "errors": exc.detail}
    else:
        response.data = {"code": code, "message": str(exc.detail)}
    return response


class CounterAPIView(APIView):
    # The token scheme comes first so that a request without credentials is answered 401.
    authentication_classes = [TerminalTokenAuthentication, SessionAuthentication]

    def get_exception_handler(self) -> Any:
        return api_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
            raise PayloadTooLarge()
        super().initial(request, *args, **kwargs)
        # A view without POST answers 405 (in dispatch) rather than asking for a key.
        if request.method == "POST" and hasattr(self, "post") and not request.headers.get(IDEMPOTENCY_HEADER):
            raise IdempotencyKeyRequired()


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=True,
    pattern=IDEMPOTENCY_KEY_SHAPE.pattern,
    description="A fresh random key per operation (8-128 of A-Z a-z 0-9 - _ . :). A repeat with the same key "
    "replays the first answer instead of acting twice.",
)
ERRORS = {code: OpenApiResponse(ErrorSerializer, description=text) for code, text in [
    (400, "validation_error, no_items, unknown_item, idempotency_key_required"),
    (401, "not_authenticated"),
    (403, "forbidden, not_counter_staff, statement_other_office"),
    (404, "not_found, record_not_found, statement_not_found"),
    (409, "statement_used, in_progress (a repeat of a request still running)"),
    (413, "too_large"),
    (422, "a refusal: not_eligible, wrong_prefecture, no_terms, the JPKI verification codes, holder_mismatch, "
     "idempotency_key_reused, ..."),
]}  # fmt: skip


def _caller(request: Request) -> User | CounterTerminal:
    """Who the view's permission classes let in: a signed-in user or a counter terminal (whose
    token authentication puts it in request.user, which DRF's stubs type as a user only)."""
    return cast("User | CounterTerminal", request.user)


def _statement_for(request: Request, statement_id: int) -> ConsentStatement:
    statement = (
        ConsentStatement.objects.select_related("record", "office", "terms_version").filter(pk=statement_id).first()
    )
    if statement is None:
        raise ConsentRefused("statement_not_found")
    # A statement is seen only at the office that made it.
    if getattr(request.user, "office_id", None) != statement.office_id:
        raise ConsentRefused("statement_other_office")
    if holder_access(request.user, statement.record.prefecture) < HolderAccess.WRITE:  # the holder moved away
        raise exceptions.PermissionDenied(_("This holder is served in their prefecture of residence only."))
    return statement


class StatementsView(CounterAPIView):
    def get_permissions(self) -> list[Any]:
        # Staff make statements; the office's terminals (and staff) list the ones open for signing.
        return [CounterStaff()] if self.request.method == "POST" else [CounterStaffOrTerminal()]

    @extend_schema(
        operation_id="statements_open",
        summary="The statements of the caller's office still open for signing, newest first",
        responses={200: StatementSerializer(many=True), 401: ERRORS[401], 403: ERRORS[403]},
    )
    def get(self, request: Request) -> Response:
        return Response(StatementSerializer(statements_open(who=request.user), many=True).data)

    @extend_schema(
        operation_id="statement_create",
        summary="Make the consent statement for a record and the chosen items (R1, R2, R4, R17)",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=StatementCreateSerializer,
        responses={201: StatementSerializer, **{k: v for k, v in ERRORS.items() if k != 410}},
    )
    def post(self, request: Request) -> Response:
        form = StatementCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        statement = statement_create(
            record_id=form.validated_data["record_id"],
            items=form.validated_data["items"],
            actor=cast(User, request.user),  # CounterStaff lets only signed-in staff make statements
        )
        return Response(StatementSerializer(statement).data, status=status.HTTP_201_CREATED)


class StatementDetailView(CounterAPIView):
    permission_classes = [CounterStaffOrTerminal]

    @extend_schema(
        operation_id="statement_read",
        summary="Read a statement to sign (the terminal signs text_base64)",
        responses={200: StatementSerializer, 401: ERRORS[401], 403: ERRORS[403], 404: ERRORS[404]},
    )
    def get(self, request: Request, statement_id: int) -> Response:
        return Response(StatementSerializer(_statement_for(request, statement_id)).data)


class StatementSignatureView(CounterAPIView):
    permission_classes = [CounterStaffOrTerminal]

    @extend_schema(
        operation_id="statement_sign",
        summary="Submit the holder's signature and certificate; the consent is stored pending (R3)",
        description="The signature and certificate are verified before anything is stored or sent to J-LIS. "
        "On success the consent is pending until J-LIS reflects it.",
        parameters=[IDEMPOTENCY_PARAMETER],
        request=SignatureSerializer,
        responses={
            201: ConsentSerializer,
            410: OpenApiResponse(ErrorSerializer, description="statement_expired"),
            **ERRORS,
        },
    )
    def post(self, request: Request, statement_id: int) -> Response:
        _statement_for(request, statement_id)  # whose it is, before what was sent (the service checks again)
        form = SignatureSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        consent = consent_register(
            statement_id=statement_id,
            signature=form.validated_data["signature"],
            certificate_der=form.validated_data["certificate"],
            actor=_caller(request),
        )
        return Response(ConsentSerializer(consent).data, status=status.HTTP_201_CREATED)


class RecordConsentStatusView(CounterAPIView):
    permission_classes = [ReaderOrTerminal]

    @extend_schema(
        operation_id="record_consent_status",
        summary="A record's consent status: items, consent date, last valid day, status (R8)",
        responses={200: ConsentStatusSerializer, 401: ERRORS[401], 403: ERRORS[403], 404: ERRORS[404]},
    )
    def get(self, request: Request, record_id: int) -> Response:
        record = record_or_404(pk=record_id)
        if holder_access(request.user, record.prefecture) < HolderAccess.READ:
            # Staff and terminals read the holders of their own prefecture; auditors read all.
            raise exceptions.PermissionDenied(_("This holder's consent status is read in their prefecture only."))
        with transaction.atomic():
            audit_log(
                AuditEntry(
                    action=AuditAction.RECORD_CONSENT_STATUS_VIEW,
                    subject_type="driver_record",
                    subject_id=str(record.pk),
                    record_number=record.number,
                    **audit_who(_caller(request)),
                )
            )
        return Response(ConsentStatusSerializer(consent_status(record=record)).data)


class SchemaView(SpectacularAPIView):
    """The OpenAPI description (YAML or JSON by Accept); its errors are JSON `{code, message}`
    like every other API error, not rendered in the schema's format."""

    @extend_schema(
        parameters=[OpenApiParameter("lang", str, OpenApiParameter.QUERY, enum=SCHEMA_LANGUAGES)],
        responses={
            200: OpenApiTypes.OBJECT,
            400: OpenApiResponse(ErrorSerializer, description="validation_error (an unknown lang, an empty format)"),
            401: ERRORS[401],
            404: OpenApiResponse(ErrorSerializer, description="not_found (a format the schema is not served in)"),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        errors = {
            name: [_("One of: %s") % ", ".join(allowed)]
            for name, allowed in (("lang", SCHEMA_LANGUAGES), ("format", SCHEMA_FORMATS))
            if request.GET.get(name, allowed[0]) not in allowed
        }
        if errors:
            raise exceptions.ValidationError(errors)
        return super().get(request, *args, **kwargs)

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response
