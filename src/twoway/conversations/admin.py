from django.contrib import admin

from twoway.conversations.models import Conversation, Message


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("__str__", "organization", "folder", "unread_count", "last_message_at")
    list_filter = ("folder",)
    raw_id_fields = ("contact", "phone_number", "assignee")


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("uid", "direction", "kind", "category", "status", "error_code", "created_at")
    list_filter = ("direction", "status", "category")
    search_fields = ("uid", "carrier_message_id", "to_number", "from_number")
    raw_id_fields = ("conversation", "sent_by")
