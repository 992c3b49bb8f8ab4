from django.contrib import admin

from twoway.numbers.models import PhoneNumber


@admin.register(PhoneNumber)
class PhoneNumberAdmin(admin.ModelAdmin):
    # The operator sets up the shared system number here: no organization, "is system" ticked.
    list_display = (
        "number",
        "label",
        "organization",
        "is_system",
        "is_dedicated",
        "verification_status",
        "number_type",
        "carrier",
        "mps_limit",
    )
    list_filter = ("is_system", "verification_status", "number_type", "carrier")
    search_fields = ("number", "label")
    readonly_fields = ("next_send_at",)
