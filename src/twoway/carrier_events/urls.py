from django.urls import path

from twoway.carrier_events.views import carrier_webhook

urlpatterns = [
    path("<slug:carrier>/", carrier_webhook, name="carrier_webhook"),
    # A carrier account's own webhook: <account> is its webhook key (CarrierAccount.webhook_key).
    path("<slug:carrier>/<slug:account>/", carrier_webhook, name="carrier_account_webhook"),
]
