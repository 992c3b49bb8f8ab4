from django.contrib import admin

from twoway.billing.models import BalanceEntry, SmsAccount


@admin.register(SmsAccount)
class SmsAccountAdmin(admin.ModelAdmin):
    list_display = ("organization", "balance")
    readonly_fields = ("balance",)  # changed through grants, so the ledger stays complete


@admin.register(BalanceEntry)
class BalanceEntryAdmin(admin.ModelAdmin):
    list_display = ("organization", "delta", "balance_after", "reason", "message", "created_at")
    list_filter = ("reason",)
    raw_id_fields = ("message", "created_by")
