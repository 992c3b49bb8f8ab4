from django.apps import AppConfig


class CarrierAccountsConfig(AppConfig):
    name = "twoway.carrier_accounts"
    verbose_name = "Carrier accounts"

    def ready(self) -> None:
        # The carrier registry reads accounts through this app's loader: the registry sits in a
        # layer below the database.
        from twoway.carrier_accounts.selectors import carrier_account_config
        from twoway.carriers.registry import account_loader_set

        account_loader_set(carrier_account_config)
