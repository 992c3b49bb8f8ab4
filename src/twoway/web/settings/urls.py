from django.urls import include, path

from twoway.web import consent_ledger
from twoway.web.settings import (
    answering,
    api_keys,
    balance,
    canned,
    contact_fields,
    drips,
    index,
    keywords,
    two_way,
    webhooks,
)

urlpatterns = [
    path("", index.settings_index, name="settings"),
    path("two-way/", two_way.two_way_settings, name="settings_two_way"),
    path("two-way/on/", two_way.two_way_on, name="settings_two_way_on"),
    path("two-way/off/", two_way.two_way_off, name="settings_two_way_off"),
    path("balance/", balance.balance, name="settings_balance"),
    path("consent-ledger/", consent_ledger.consent_ledger, name="settings_consent_ledger"),
    path(
        "consent-ledger/export.csv",
        consent_ledger.consent_ledger_export,
        name="settings_consent_ledger_export",
    ),
    path("api-keys/", api_keys.api_keys, name="settings_api_keys"),
    path(
        "api-keys/<int:key_id>/revoke/",
        api_keys.api_key_revoke_view,
        name="settings_api_key_revoke",
    ),
    path("keywords/", keywords.keywords, name="settings_keywords"),
    path(
        "keywords/<int:keyword_id>/delete/",
        keywords.keyword_delete,
        name="settings_keyword_delete",
    ),
    path("answering/", answering.answering, name="settings_answering"),
    path("answering/hours/", answering.hours_save, name="settings_answering_hours"),
    path("answering/away/", answering.away_save, name="settings_answering_away"),
    path("answering/rules/", answering.rule_add, name="settings_keyword_rule_add"),
    path(
        "answering/rules/<int:rule_id>/delete/",
        answering.rule_delete,
        name="settings_keyword_rule_delete",
    ),
    path("contact-fields/", contact_fields.contact_fields, name="settings_contact_fields"),
    path("contact-fields/groups/", contact_fields.group_add, name="settings_group_add"),
    path(
        "contact-fields/groups/<int:group_id>/",
        contact_fields.group_edit,
        name="settings_group_edit",
    ),
    path("contact-fields/fields/", contact_fields.field_add, name="settings_field_add"),
    path(
        "contact-fields/fields/<int:field_id>/",
        contact_fields.field_edit,
        name="settings_field_edit",
    ),
    path("canned-responses/", canned.canned_responses, name="settings_canned_responses"),
    path("canned-responses/add/", canned.canned_add, name="settings_canned_add"),
    path(
        "canned-responses/<int:canned_id>/",
        canned.canned_edit,
        name="settings_canned_edit",
    ),
    path("webhooks/", webhooks.webhooks, name="settings_webhooks"),
    path("webhooks/<int:endpoint_id>/", webhooks.webhook, name="settings_webhook"),
    path("webhooks/<int:endpoint_id>/log/", webhooks.webhook_log, name="settings_webhook_log"),
    path(
        "webhooks/<int:endpoint_id>/rotate/",
        webhooks.webhook_rotate,
        name="settings_webhook_rotate",
    ),
    path(
        "webhooks/<int:endpoint_id>/enable/",
        webhooks.webhook_enable,
        name="settings_webhook_enable",
    ),
    path("webhooks/<int:endpoint_id>/test/", webhooks.webhook_test, name="settings_webhook_test"),
    path(
        "webhooks/<int:endpoint_id>/delete/",
        webhooks.webhook_delete,
        name="settings_webhook_delete",
    ),
    path(
        "webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/resend/",
        webhooks.webhook_resend,
        name="settings_webhook_resend",
    ),
    path("drip-campaigns/", drips.drip_campaigns, name="settings_drip_campaigns"),
    path("drip-campaigns/add/", drips.drip_campaign_add, name="settings_drip_campaign_add"),
    path(
        "drip-campaigns/<int:campaign_id>/",
        drips.drip_campaign_edit,
        name="settings_drip_campaign_edit",
    ),
    path(
        "drip-campaigns/<int:campaign_id>/delete/",
        drips.drip_campaign_remove,
        name="settings_drip_campaign_delete",
    ),
    path("", include("twoway.web.settings.accounts_urls")),
    path("", include("twoway.web.settings.numbers_urls")),
    path("", include("twoway.web.settings.carrier_accounts_urls")),
]
