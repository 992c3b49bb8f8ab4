"""`twoway manage rotate_carrier_credentials`: every carrier account's credentials encrypted
again with the newest key, after a new one was put first in CARRIER_CREDENTIALS_KEY."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from twoway.carrier_accounts.services import carrier_credentials_rotate


class Command(BaseCommand):
    help = (
        "Encrypt every carrier account's credentials again with the first key of "
        "CARRIER_CREDENTIALS_KEY (or SECRET_KEY's), so that older keys can be dropped."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        rotated, unreadable = carrier_credentials_rotate()
        self.stdout.write(f"Encrypted the credentials of {rotated} carrier account(s) again.")
        if unreadable:
            names = ", ".join(f"{account.pk} ({account.name})" for account in unreadable)
            raise CommandError(
                f"No configured key decrypts the credentials of these accounts, left as they "
                f"are: {names}. Keep their old key in CARRIER_CREDENTIALS_KEY, or enter their "
                "credentials again in Settings, Carrier accounts."
            )
