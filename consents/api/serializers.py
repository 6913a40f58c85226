"""What the API reads and answers. No logic here: the services and selectors decide."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from consents.feed import FeedState, record_feed
from onestop.validators import NoMyNumber

from ..models import Consent, ConsentItem, ConsentStatement
from ..selectors import ConsentStatusView, consent_in_force

# A signature is 256 bytes and a JPKI certificate about 1.5 KB; base64 adds a third.
MAX_SIGNATURE_B64 = 1024
MAX_CERTIFICATE_B64 = 16 * 1024


class AnswerOnly:
    """For serializers that only answer: every field read-only, so none ever takes input (and
    the free-text checks of R14 concern the request serializers alone)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields: dict[str, serializers.Field] = super().get_fields()  # type: ignore[misc]
        for field in fields.values():
            field.read_only = True
        return fields


class ErrorSerializer(AnswerOnly, serializers.Serializer):
    code = serializers.CharField(help_text="A stable code: the JPKI verification codes, or the API's own.")
    message = serializers.CharField(help_text="The reason in plain words, in the request's language.")


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "enum": ConsentItem.values},
        "minItems": 1,
        "maxItems": len(ConsentItem.values),
    }
)
class ItemsField(serializers.ListField):
    """The items as the schema states them; the service refuses others (no_items, unknown_item)."""


class StatementCreateSerializer(serializers.Serializer):
    record_id = serializers.IntegerField(min_value=1)
    items = ItemsField(
        child=serializers.CharField(max_length=20, validators=[NoMyNumber("items")]),
        max_length=len(ConsentItem.values),
        help_text="At least one of: " + ", ".join(ConsentItem.values),
    )


class StatementSerializer(AnswerOnly, serializers.ModelSerializer):
    record_id = serializers.IntegerField()
    terms_version = serializers.CharField(source="terms_version.version")
    office = serializers.CharField(source="office.code")
    text_base64 = serializers.SerializerMethodField(help_text="The exact bytes to sign (UTF-8 of text), base64.")
    sha256 = serializers.SerializerMethodField(help_text="SHA-256 of those bytes, hex.")
    used = serializers.SerializerMethodField()

    class Meta:
        model = ConsentStatement
        fields = [
            "id",
            "record_id",
            "items",
            "terms_version",
            "office",
            "text",
            "text_base64",
            "sha256",
            "nonce",
            "created_at",
            "expires_at",
            "used",
            "refused_code",
        ]

    def get_text_base64(self, statement: ConsentStatement) -> str:
        return base64.b64encode(statement.text.encode("utf-8")).decode("ascii")

    def get_sha256(self, statement: ConsentStatement) -> str:
        return hashlib.sha256(statement.text.encode("utf-8")).hexdigest()

    def get_used(self, statement: ConsentStatement) -> bool:
        return statement.used_at is not None


# What the schema says a base64 value is: the alphabet, padded, non-empty (as the field checks).
BASE64_PATTERN = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$"


@extend_schema_field({"type": "string", "format": "byte", "pattern": BASE64_PATTERN})
class Base64Field(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(trim_whitespace=True, **kwargs)

    def to_internal_value(self, data: Any) -> bytes:  # type: ignore[override]
        text = super().to_internal_value(data)
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise serializers.ValidationError(_("Not valid base64.")) from exc


class SignatureSerializer(serializers.Serializer):
    signature = Base64Field(max_length=MAX_SIGNATURE_B64, help_text="PKCS#1 v1.5 signature over the statement, base64.")
    certificate = Base64Field(max_length=MAX_CERTIFICATE_B64, help_text="The signing certificate, DER, base64.")


class ConsentSerializer(AnswerOnly, serializers.ModelSerializer):
    terms_version = serializers.CharField(source="terms_version.version")
    office = serializers.CharField(source="office.code", allow_null=True, default=None)
    registered_at = serializers.DateTimeField(source="created_at")
    in_force = serializers.SerializerMethodField()

    class Meta:
        model = Consent
        fields = [
            "id",
            "reference",
            "status",
            "channel",
            "items",
            "terms_version",
            "office",
            "registered_at",
            "consent_date",
            "first_day",
            "last_valid_day",
            "in_force",
            "revoked_at",
            "revoked_channel",
            "rejected_reason",
        ]

    def get_in_force(self, consent: Consent) -> bool:
        return consent_in_force(consent)


class EligibilitySerializer(AnswerOnly, serializers.Serializer):
    eligible = serializers.BooleanField()
    code = serializers.CharField()
    message = serializers.CharField()


class ConsentStatusSerializer(AnswerOnly, serializers.Serializer):
    record_id = serializers.IntegerField(source="record.pk")
    record_number = serializers.CharField(source="record.number")
    eligibility = EligibilitySerializer()
    status = serializers.CharField(help_text="The status of the consent that governs the record, or 'none'.")
    in_force = serializers.BooleanField()
    consent = serializers.SerializerMethodField()
    pending = ConsentSerializer(many=True)
    rejected = ConsentSerializer(many=True, help_text="Consents registered after it that J-LIS refused.")
    mynaportal_linked = serializers.SerializerMethodField()
    feed_state = serializers.SerializerMethodField(help_text="Whether J-LIS updates reach the record, or why not.")

    @extend_schema_field(ConsentSerializer(allow_null=True))
    def get_consent(self, view: ConsentStatusView) -> dict[str, Any] | None:
        return ConsentSerializer(view.current).data if view.current else None

    def get_mynaportal_linked(self, view: ConsentStatusView) -> bool:
        return view.mynaportal_link is not None

    @extend_schema_field(serializers.ChoiceField(choices=FeedState.choices))
    def get_feed_state(self, view: ConsentStatusView) -> str:
        return record_feed(view.record).state
