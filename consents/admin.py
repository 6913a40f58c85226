from django.contrib import admin

from onestop.admin import AppendOnlyAdmin
from onestop.admin_export import CsvExportMixin

from .models import Consent, ConsentStatement, CrlImport, MynaportalLink, RevokedCertificate, TermsVersion


@admin.register(TermsVersion)
class TermsVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "effective_date"]
    search_fields = ["version"]


@admin.register(Consent)
class ConsentAdmin(CsvExportMixin, AppendOnlyAdmin):
    list_display = [
        "reference",
        "record",
        "status",
        "channel",
        "consent_date",
        "last_valid_day",
        "office",
        "created_at",
    ]
    list_filter = ["status", "channel", "created_at"]
    search_fields = ["reference", "record__number", "cert_serial", "jlis_consent_id"]
    list_select_related = ["record", "office"]
    exclude = ["statement_bytes", "signature", "certificate"]
    date_hierarchy = "created_at"


@admin.register(ConsentStatement)
class ConsentStatementAdmin(AppendOnlyAdmin):
    list_display = ["nonce", "record", "office", "clerk", "created_at", "used_at"]
    search_fields = ["nonce", "record__number"]
    list_select_related = ["record", "office", "clerk"]


@admin.register(MynaportalLink)
class MynaportalLinkAdmin(AppendOnlyAdmin):
    list_display = ["record", "linked_at", "linked_by", "cert_serial"]
    search_fields = ["record__number", "cert_serial"]


@admin.register(CrlImport)
class CrlImportAdmin(AppendOnlyAdmin):
    list_display = ["issuer_key_id", "crl_number", "this_update", "next_update", "entries", "imported_at"]


@admin.register(RevokedCertificate)
class RevokedCertificateAdmin(AppendOnlyAdmin):
    list_display = ["serial", "issuer_key_id", "revoked_at", "reason"]
    search_fields = ["=serial"]
    show_full_result_count = False
