from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from twoway.carrier_events.failed import failed_events_retry
from twoway.carrier_events.models import CarrierEvent


class StateFilter(admin.SimpleListFilter):
    """Waiting, processed or failed: failed ones are what an operator has to look at."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("waiting", "Waiting"), ("processed", "Processed"), ("failed", "Failed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "waiting":
            return queryset.filter(processed_at__isnull=True)
        if self.value() == "processed":
            return queryset.filter(processed_at__isnull=False, failed_at__isnull=True)
        if self.value() == "failed":
            return queryset.filter(failed_at__isnull=False)
        return queryset


@admin.register(CarrierEvent)
class CarrierEventAdmin(admin.ModelAdmin):
    list_display = (
        "carrier",
        "kind",
        "dedupe_key",
        "received_at",
        "processed_at",
        "failed_at",
        "attempts",
        "error",
    )
    list_filter = (StateFilter, "carrier", "kind")
    search_fields = ("dedupe_key",)
    actions = ["process_again"]

    @admin.action(description="Process the selected failed events again")
    def process_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = failed_events_retry(ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} failed event(s) handed back to the worker.")
