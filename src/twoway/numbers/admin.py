from django.contrib import admin

from twoway.numbers.models import PhoneNumber


@admin.register(PhoneNumber)
class PhoneNumberAdmin(admin.ModelAdmin):
    list_display = ("number", "label", "organization", "number_type", "carrier", "mps_limit")
    list_filter = ("number_type", "carrier")
    search_fields = ("number", "label")
    readonly_fields = ("next_send_at",)
