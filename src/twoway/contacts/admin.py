from django.contrib import admin

from twoway.contacts.models import Contact, ContactPhone


class ContactPhoneInline(admin.TabularInline):
    model = ContactPhone
    extra = 0


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("__str__", "organization", "opt_in_status", "created_from", "created_at")
    list_filter = ("opt_in_status", "created_from")
    search_fields = ("name", "email", "phones__number")
    inlines = [ContactPhoneInline]
