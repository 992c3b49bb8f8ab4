from django.urls import path

from twoway.carrier_events.views import carrier_webhook

urlpatterns = [path("<slug:carrier>/", carrier_webhook, name="carrier_webhook")]
