from django.urls import path

from twoway.web.settings import carrier_accounts

urlpatterns = [
    path(
        "carrier-accounts/",
        carrier_accounts.carrier_accounts_list,
        name="settings_carrier_accounts",
    ),
    path(
        "carrier-accounts/add/<slug:carrier>/",
        carrier_accounts.carrier_account_add,
        name="settings_carrier_account_add",
    ),
    path(
        "carrier-accounts/<int:account_id>/",
        carrier_accounts.carrier_account_edit,
        name="settings_carrier_account_edit",
    ),
    path(
        "carrier-accounts/<int:account_id>/delete/",
        carrier_accounts.carrier_account_delete_view,
        name="settings_carrier_account_delete",
    ),
]
