from django.apps import AppConfig


class CarrierEventsConfig(AppConfig):
    name = "twoway.carrier_events"
    # The label the app had when it shared a package with the carrier adapters: its table and
    # migration history stay as they are on existing installations.
    label = "carriers"
    verbose_name = "Carrier events"
