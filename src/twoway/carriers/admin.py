from django.contrib import admin

from twoway.carriers.models import CarrierEvent


@admin.register(CarrierEvent)
class CarrierEventAdmin(admin.ModelAdmin):
    list_display = (
        "carrier",
        "kind",
        "dedupe_key",
        "received_at",
        "processed_at",
        "attempts",
        "error",
    )
    list_filter = ("carrier", "kind")
    search_fields = ("dedupe_key",)
