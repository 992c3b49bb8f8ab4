from django.contrib import admin

from twoway.notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "organization", "created_at", "read_at"]
    list_filter = ["kind"]
