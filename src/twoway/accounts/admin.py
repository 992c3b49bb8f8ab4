from django.contrib import admin

from twoway.accounts.models import ApiKey, Membership, Organization

# Stored switches of a feature not built yet (blasts): kept in the rows, offered nowhere.
UNBUILT_ORGANIZATION_FIELDS = ("blasts_enabled",)
UNBUILT_MEMBERSHIP_FIELDS = ("can_use_blasts",)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "country", "created_at")
    search_fields = ("name",)
    exclude = UNBUILT_ORGANIZATION_FIELDS


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "role", "can_send_sms")
    list_filter = ("role", "organization")
    exclude = UNBUILT_MEMBERSHIP_FIELDS


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "organization", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")
