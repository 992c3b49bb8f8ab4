from django.contrib import admin

from twoway.accounts.models import ApiKey, Membership, Organization

# Stored switches offered nowhere: of features not built yet (blasts), and the drip campaign
# switches, which switch nothing (drips follow "Send SMS to clients" and the opt-out rules):
# kept in the rows, never offered.
UNBUILT_ORGANIZATION_FIELDS = ("drips_enabled", "blasts_enabled")
UNBUILT_MEMBERSHIP_FIELDS = ("can_use_drips", "can_use_blasts")


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
