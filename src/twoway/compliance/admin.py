from django.contrib import admin

from twoway.compliance.models import ConsentEvent


@admin.register(ConsentEvent)
class ConsentEventAdmin(admin.ModelAdmin):
    list_display = ("contact", "kind", "source", "phone_number", "created_at")
    list_filter = ("kind", "source")
    raw_id_fields = ("contact", "message")
