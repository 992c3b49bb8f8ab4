from __future__ import annotations

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "twoway.webhooks"

    def ready(self) -> None:
        from twoway.realtime.events import events_listen
        from twoway.webhooks.recording import domain_events_record

        # The realtime writer sits below this app, so it tells us rather than importing us.
        events_listen(domain_events_record)
