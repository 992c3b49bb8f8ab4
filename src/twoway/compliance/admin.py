from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from twoway.compliance.models import ConsentEvent


@admin.register(ConsentEvent)
class ConsentEventAdmin(admin.ModelAdmin):
    """Read only: the ledger is an audit record, appended to by `compliance.services` alone."""

    list_display = ("contact", "kind", "source", "actor", "phone_number", "created_at")
    list_filter = ("kind", "source")
    raw_id_fields = ("contact", "message")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
