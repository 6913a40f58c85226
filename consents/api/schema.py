"""The API's OpenAPI schema at /api/schema/: readable by staff and by counter terminals (whose
software is built against it), answering errors as the rest of the API does ({code, message},
JSON), whatever format the schema itself was asked in."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from .auth import TerminalTokenAuthentication
from .serializers import ErrorSerializer
from .views import api_exception_handler

LANGUAGES = [code for code, _name in settings.LANGUAGES]
FORMATS = ["json", "yaml"]  # the format parameter drf-spectacular documents for its renderers


class ApiSchemaView(SpectacularAPIView):
    authentication_classes = [TerminalTokenAuthentication, SessionAuthentication]

    @extend_schema(
        parameters=[OpenApiParameter("lang", str, OpenApiParameter.QUERY, enum=LANGUAGES)],
        responses={
            200: OpenApiTypes.OBJECT,
            400: OpenApiResponse(ErrorSerializer, description="validation_error (an unknown lang, an empty format)"),
            401: OpenApiResponse(ErrorSerializer, description="not_authenticated"),
            404: OpenApiResponse(ErrorSerializer, description="not_found (a format the schema is not served in)"),
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        errors = {
            name: [_("One of: %s") % ", ".join(allowed)]
            for name, allowed in (("lang", LANGUAGES), ("format", FORMATS))
            if request.GET.get(name, allowed[0]) not in allowed
        }
        if errors:
            raise exceptions.ValidationError(errors)
        return super().get(request, *args, **kwargs)

    def get_exception_handler(self) -> Any:
        return api_exception_handler

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        # An error is not a schema: it goes out as JSON, like every other error of the API.
        self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), "application/json"
        return response
