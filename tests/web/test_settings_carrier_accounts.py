"""Settings → Carrier accounts: the list, adding a Twilio account, renaming it and replacing its
credentials, deleting it; credentials appear masked only, in every page."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.test import Client

from tests.carrier_accounts.conftest import make_account
from tests.conftest import logged_in, make_member
from twoway.accounts.models import Membership, Organization, Role
from twoway.carrier_accounts.models import CarrierAccount
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

LIST, ADD = "/settings/carrier-accounts/", "/settings/carrier-accounts/add/twilio/"
SID = "AC" + "0123456789abcdef" * 2
TOKEN = "f00dfeed" * 3 + "5ec7e7a9"
NEW_TOKEN = "c0ffee42" * 3 + "bead1234"


def edit_url(account: CarrierAccount) -> str:
    return f"{LIST}{account.pk}/"


@pytest.fixture
def account(org: Organization) -> CarrierAccount:
    return make_account(org, sid=SID, token=TOKEN)


def assert_masked(page: str) -> None:
    assert TOKEN not in page and SID not in page
    assert NEW_TOKEN not in page
    assert TOKEN[:8] not in page  # no part of it either


def test_settings_index_links_to_carrier_accounts(admin_client: Client) -> None:
    assert f'href="{LIST}"' in admin_client.get("/settings/").content.decode()


@pytest.mark.parametrize("role_fixture", ["standard", "limited"])
def test_non_admins_get_403_everywhere(
    request: pytest.FixtureRequest, role_fixture: str, account: CarrierAccount
) -> None:
    client = logged_in(request.getfixturevalue(role_fixture))
    for url in (LIST, ADD, edit_url(account)):
        assert client.get(url).status_code == 403, url
    data = {"name": "x", "account_sid": SID, "auth_token": NEW_TOKEN}
    assert client.post(ADD, data).status_code == 403
    assert client.post(edit_url(account), data).status_code == 403
    assert client.post(f"{edit_url(account)}delete/").status_code == 403
    account.refresh_from_db()
    assert (account.name, account.credentials()["auth_token"]) == ("Main Twilio", TOKEN)


def test_another_organizations_account_is_404(account: CarrierAccount, other_org) -> None:
    outsider = logged_in(make_member(other_org, "admin@other.test", Role.ADMINISTRATIVE))

    assert outsider.get(edit_url(account)).status_code == 404
    assert outsider.post(edit_url(account), {"name": "Mine"}).status_code == 404
    assert outsider.post(f"{edit_url(account)}delete/").status_code == 404
    assert account.name not in outsider.get(LIST).content.decode()
    assert CarrierAccount.objects.get().name == "Main Twilio"


def test_the_list_shows_each_account_masked_with_its_webhook_url_and_numbers(
    admin_client: Client, account: CarrierAccount, org: Organization, other_org: Organization
) -> None:
    number = PhoneNumber.objects.create(
        organization=org, number="+14155550123", carrier="twilio", carrier_account=account
    )
    make_account(other_org, name="Somebody else's", sid=SID, token=TOKEN)

    page = admin_client.get(LIST).content.decode()

    assert "Main Twilio" in page and "Somebody else" not in page
    assert f"Auth token <code>••••{TOKEN[-4:]}</code>" in page
    assert f"Account SID <code>••••{SID[-4:]}</code>" in page
    assert f"http://testserver/webhooks/twilio/{account.webhook_key}/" in page
    assert number.display in page
    assert 'href="/settings/carrier-accounts/add/twilio/"' in page
    assert_masked(page)


def test_the_webhook_url_uses_the_public_url_when_set(
    admin_client: Client, account: CarrierAccount, settings
) -> None:
    settings.TWOWAY_PUBLIC_URL = "https://texts.example.com"

    page = admin_client.get(edit_url(account)).content.decode()

    assert f"https://texts.example.com/webhooks/twilio/{account.webhook_key}/" in page
    assert "TWOWAY_PUBLIC_URL" not in page


def test_adding_an_account(admin_client: Client, admin: Membership) -> None:
    form = admin_client.get(ADD).content.decode()
    assert 'name="account_sid"' in form and 'type="password" name="auth_token"' in form

    response = admin_client.post(
        ADD, {"name": "Front desk Twilio", "account_sid": SID, "auth_token": TOKEN}
    )

    account = CarrierAccount.objects.get()
    assert response.status_code == 302
    assert response["Location"] == edit_url(account)
    assert (account.organization, account.carrier, account.name) == (
        admin.organization,
        "twilio",
        "Front desk Twilio",
    )
    assert account.credentials() == {"account_sid": SID, "auth_token": TOKEN}
    page = admin_client.get(response["Location"]).content.decode()
    assert "Added Front desk Twilio" in page
    assert account.webhook_path in page
    assert_masked(page)


def test_a_refused_add_says_why_beside_the_field_and_keeps_no_token(
    admin_client: Client,
) -> None:
    response = admin_client.post(
        ADD, {"name": "Front desk Twilio", "account_sid": "AC123", "auth_token": TOKEN}
    )

    assert response.status_code == 422
    page = response.content.decode()
    assert "AC followed by 32 hexadecimal digits" in page
    assert TOKEN not in page  # the password field is not filled in again
    assert not CarrierAccount.objects.exists()

    missing = admin_client.post(ADD, {"name": "Front desk Twilio", "account_sid": SID})
    assert missing.status_code == 422
    assert not CarrierAccount.objects.exists()


def test_a_carrier_without_accounts_has_no_add_page(admin_client: Client) -> None:
    assert admin_client.get("/settings/carrier-accounts/add/simulator/").status_code == 404
    assert admin_client.get("/settings/carrier-accounts/add/nope/").status_code == 404


def test_editing_renames_and_blank_credentials_keep_the_stored_ones(
    admin_client: Client, account: CarrierAccount
) -> None:
    page = admin_client.get(edit_url(account)).content.decode()
    assert f"Stored: ••••{TOKEN[-4:]}" in page
    assert_masked(page)

    response = admin_client.post(
        edit_url(account), {"name": "Renamed", "account_sid": "", "auth_token": ""}
    )

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.name == "Renamed"
    assert account.credentials() == {"account_sid": SID, "auth_token": TOKEN}


def test_editing_replaces_a_credential(admin_client: Client, account: CarrierAccount) -> None:
    response = admin_client.post(edit_url(account), {"name": account.name, "auth_token": NEW_TOKEN})

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.credentials() == {"account_sid": SID, "auth_token": NEW_TOKEN}
    page = admin_client.get(LIST).content.decode()
    assert f"••••{NEW_TOKEN[-4:]}" in page
    assert_masked(page)


def test_a_replacement_of_the_wrong_shape_changes_nothing(
    admin_client: Client, account: CarrierAccount
) -> None:
    response = admin_client.post(edit_url(account), {"name": "Renamed", "auth_token": "short"})

    assert response.status_code == 422
    assert "32 hexadecimal digits" in response.content.decode()
    account.refresh_from_db()
    assert (account.name, account.credentials()["auth_token"]) == ("Main Twilio", TOKEN)


def test_deleting_an_account_no_number_is_held_in(
    admin_client: Client, account: CarrierAccount
) -> None:
    response = admin_client.post(f"{edit_url(account)}delete/", {"confirm": "on"})

    assert response.status_code == 302
    assert response["Location"] == LIST
    assert not CarrierAccount.objects.exists()
    assert "Deleted Main Twilio" in admin_client.get(LIST).content.decode()


def test_an_account_holding_a_number_is_not_deleted(
    admin_client: Client, account: CarrierAccount, org: Organization
) -> None:
    PhoneNumber.objects.create(
        organization=org, number="+14155550123", carrier="twilio", carrier_account=account
    )
    page = admin_client.get(edit_url(account)).content.decode()
    assert 'id="delete-blocked"' in page
    assert f"{edit_url(account)}delete/" not in page

    response = admin_client.post(f"{edit_url(account)}delete/", {"confirm": "on"}, follow=True)

    assert CarrierAccount.objects.filter(pk=account.pk).exists()
    assert "cannot be deleted" in response.content.decode()


def test_credentials_no_key_reads_are_shown_as_such(
    admin_client: Client, account: CarrierAccount
) -> None:
    foreign = Fernet(Fernet.generate_key()).encrypt(b'{"auth_token": "x"}').decode()
    CarrierAccount.objects.filter(pk=account.pk).update(credentials_encrypted=foreign)

    page = admin_client.get(LIST).content.decode()

    assert "Cannot be read" in page
    assert admin_client.get(edit_url(account)).status_code == 200
