"""Settings → Numbers pages: the list, adding a number, inbox settings, releasing; and what the
inbox settings mean for the people who use the inbox."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from tests.conftest import logged_in, make_member
from twoway.accounts.models import Membership, Organization, Role, Team
from twoway.carrier_events.processing import carrier_events_process_pending
from twoway.carrier_events.store import carrier_event_record
from twoway.carriers.base import InboundMessage
from twoway.conversations.models import Conversation
from twoway.messaging.services import message_send
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db

LIST, ADD = "/settings/numbers/", "/settings/numbers/add/"


def edit_url(number: PhoneNumber) -> str:
    return f"/settings/numbers/{number.pk}/"


def settings_post(number: PhoneNumber, **overrides: object) -> dict[str, object]:
    """The edit form as the browser posts it, unchanged unless overridden."""
    data: dict[str, object] = {
        "label": number.label,
        "number_type": number.number_type,
        "mps_limit": str(number.mps_limit),
        "access": "everyone" if number.access_everyone else "selected",
        "access_users": [m.pk for m in number.access_users.all()],
        "access_teams": [t.pk for t in number.access_teams.all()],
        "routing_mode": number.routing_mode,
    }
    if number.sms_enabled:
        data["sms_enabled"] = "on"
    if number.mms_enabled:
        data["mms_enabled"] = "on"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def restricted(org: Organization) -> PhoneNumber:
    return PhoneNumber.objects.create(
        organization=org,
        number="+14155550199",
        label="Nights",
        carrier="simulator",
        access_everyone=False,
    )


# --- Permissions -------------------------------------------------------------------------------


def test_settings_index_links_to_numbers(admin_client: Client) -> None:
    page = admin_client.get("/settings/").content.decode()
    assert f'href="{LIST}"' in page


@pytest.mark.parametrize("role_fixture", ["standard", "limited"])
def test_non_admins_get_403_everywhere(
    request: pytest.FixtureRequest, role_fixture: str, number: PhoneNumber
) -> None:
    client = logged_in(request.getfixturevalue(role_fixture))
    for url in (LIST, ADD, f"{ADD}?carrier=simulator&area_code=415", edit_url(number)):
        assert client.get(url).status_code == 403, url
    assert client.post(ADD, {"carrier": "simulator", "number": "+14155550150"}).status_code == 403
    assert client.post(edit_url(number), settings_post(number, label="x")).status_code == 403
    assert client.post(f"{edit_url(number)}release/").status_code == 403
    number.refresh_from_db()
    assert number.label == ""
    assert PhoneNumber.objects.count() == 1


def test_anonymous_is_sent_to_log_in(client: Client, number: PhoneNumber) -> None:
    for url in (LIST, ADD, edit_url(number)):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_numbers_of_another_organization_are_not_found(
    admin_client: Client, other_org: Organization
) -> None:
    foreign = PhoneNumber.objects.create(
        organization=other_org, number="+14155550177", carrier="simulator"
    )
    assert admin_client.get(edit_url(foreign)).status_code == 404
    response = admin_client.post(edit_url(foreign), settings_post(foreign, label="mine"))
    assert response.status_code == 404
    assert admin_client.post(f"{edit_url(foreign)}release/").status_code == 404
    foreign.refresh_from_db()
    assert foreign.label == ""
    assert "(415) 555-0177" not in admin_client.get(LIST).content.decode()


# --- The list ------------------------------------------------------------------------------


def test_list_shows_each_number_and_who_can_use_it(
    org: Organization,
    admin_client: Client,
    number: PhoneNumber,
    restricted: PhoneNumber,
    standard: Membership,
) -> None:
    team = Team.objects.create(organization=org, name="Front desk")
    restricted.access_users.add(standard)
    restricted.access_teams.add(team)
    restricted.routing_mode = "assistant"
    restricted.mps_limit = Decimal("2.50")
    restricted.save()
    response = admin_client.get(LIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert "(415) 555-0100" in page and "(415) 555-0199" in page
    assert "Nights" in page and "Local long code" in page and "Simulator" in page
    assert "2.50 msg/s" in page and "100 msg/s" in page
    assert "Virtual-assistant-backed" in page and "Agent-backed" in page
    row = page[page.index('id="number-' + str(restricted.pk)) :]
    row = row[: row.index("</tr>")]
    assert "Administrators, agent@acme.test, team Front desk" in " ".join(row.split())
    first = page[page.index('id="number-' + str(number.pk)) :]
    assert "Everyone" in first[: first.index("</tr>")]


def test_list_without_numbers_says_so(admin_client: Client) -> None:
    assert "no number yet" in admin_client.get(LIST).content.decode()


# --- Adding --------------------------------------------------------------------------------


def test_add_page_searches_the_simulator(admin_client: Client, number: PhoneNumber) -> None:
    page = admin_client.get(ADD).content.decode()
    assert "Search" in page and 'value="simulator"' in page and 'value="twilio"' in page
    assert "Available numbers" not in page
    response = admin_client.get(f"{ADD}?carrier=simulator&area_code=415")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="+14155550101"' in page and "(415) 555-0101" in page
    assert 'value="+14155550100"' not in page  # taken by `number`
    assert page.count('name="number"') == 20


def test_add_page_shows_search_errors(admin_client: Client) -> None:
    response = admin_client.get(f"{ADD}?carrier=simulator&area_code=41")
    assert response.status_code == 422
    assert "three digits" in response.content.decode()
    response = admin_client.get(f"{ADD}?carrier=simulator&area_code=299")
    assert response.status_code == 422
    assert "no numbers in area code 299" in response.content.decode()
    response = admin_client.get(f"{ADD}?carrier=carrier-pigeon")
    assert response.status_code == 422


def test_admin_adds_a_number_and_lands_on_its_settings(
    admin_client: Client, org: Organization
) -> None:
    response = admin_client.post(
        f"{ADD}?carrier=simulator&area_code=212",
        {"carrier": "simulator", "number": "+12125550103", "label": "Downtown"},
    )
    added = PhoneNumber.objects.get(number="+12125550103")
    assert response.status_code == 302
    assert response["Location"] == edit_url(added)
    assert (added.organization, added.label, added.mps_limit) == (org, "Downtown", Decimal(1))
    page = admin_client.get(response["Location"]).content.decode()
    assert "(212) 555-0103 is now one of your numbers" in page
    assert "(212) 555-0103" in admin_client.get(LIST).content.decode()


def test_adding_a_taken_number_explains_and_keeps_the_choice(
    admin_client: Client, other_org: Organization
) -> None:
    PhoneNumber.objects.create(organization=other_org, number="+12125550103", carrier="simulator")
    response = admin_client.post(
        f"{ADD}?carrier=simulator&area_code=212",
        {"carrier": "simulator", "number": "+12125550103", "label": "Downtown"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "(212) 555-0103 is already in use in Twoway" in page
    assert 'value="Downtown"' in page  # what was typed stays
    assert 'value="+12125550104"' in page  # the search is shown again
    assert PhoneNumber.objects.count() == 1


def test_adding_without_picking_a_number(admin_client: Client) -> None:
    response = admin_client.post(f"{ADD}?carrier=simulator", {"carrier": "simulator"})
    assert response.status_code == 422
    assert "Pick a number first." in response.content.decode()
    assert not PhoneNumber.objects.exists()


# --- Inbox settings ------------------------------------------------------------------------


def test_edit_page_shows_the_current_settings(
    admin_client: Client, restricted: PhoneNumber, standard: Membership, limited: Membership
) -> None:
    restricted.access_users.add(standard)
    page = " ".join(admin_client.get(edit_url(restricted)).content.decode().split())
    assert "Who can use this number" in page
    assert 'value="selected" required id="id_access_1" checked>' in page
    assert (
        f'value="{standard.pk}" id="id_access_users_0" checked> agent@acme.test (Standard)' in page
    )
    assert f'value="{limited.pk}" id="id_access_users_1"> limited@acme.test (Limited)' in page
    assert "admin@acme.test (Administrative)" not in page  # admins use every number anyway
    assert 'name="mps_limit" value="1"' in page
    assert 'value="agent" required id="id_routing_mode_0" checked> Agent-backed' in page
    assert "Virtual-assistant-backed" in page
    assert '<option value="local" selected>Local long code</option>' in page


def test_admin_restricts_a_number_to_a_user_and_a_team(
    org: Organization,
    admin_client: Client,
    number: PhoneNumber,
    standard: Membership,
    limited: Membership,
) -> None:
    team = Team.objects.create(organization=org, name="Front desk")
    response = admin_client.post(
        edit_url(number),
        settings_post(
            number,
            label="Main line",
            number_type="toll_free",
            mps_limit="3",
            access="selected",
            access_users=[standard.pk],
            access_teams=[team.pk],
            routing_mode="assistant",
            sms_enabled="on",
        ),
    )
    assert response.status_code == 302 and response["Location"] == LIST
    number.refresh_from_db()
    assert (number.label, number.number_type, number.mps_limit) == (
        "Main line",
        "toll_free",
        Decimal(3),
    )
    assert (number.access_everyone, number.routing_mode) == (False, "assistant")
    assert list(number.access_users.all()) == [standard]
    assert list(number.access_teams.all()) == [team]
    assert "Saved the settings of (415) 555-0100" in admin_client.get(LIST).content.decode()


def test_opening_a_number_to_everyone_again(admin_client: Client, restricted: PhoneNumber) -> None:
    admin_client.post(edit_url(restricted), settings_post(restricted, access="everyone"))
    restricted.refresh_from_db()
    assert restricted.access_everyone


def test_edit_form_errors_are_shown_and_nothing_is_saved(
    admin_client: Client, number: PhoneNumber
) -> None:
    response = admin_client.post(edit_url(number), settings_post(number, mps_limit="0"))
    assert response.status_code == 422
    page = response.content.decode()
    assert "Nothing was saved" in page and "at most 1000 messages per second" in page
    response = admin_client.post(edit_url(number), settings_post(number, mps_limit="5000"))
    assert response.status_code == 422
    response = admin_client.post(
        edit_url(number), settings_post(number, label="changed", mps_limit="-1")
    )
    assert response.status_code == 422
    number.refresh_from_db()
    assert (number.label, number.mps_limit, number.mms_enabled) == ("", Decimal(100), False)


def test_members_and_teams_of_another_organization_cannot_be_posted(
    admin_client: Client, number: PhoneNumber, other_org: Organization
) -> None:
    stranger = make_member(other_org, "stranger@other.test", Role.STANDARD)
    foreign_team = Team.objects.create(organization=other_org, name="Theirs")
    page = admin_client.get(edit_url(number)).content.decode()
    assert "stranger@other.test" not in page and "Theirs" not in page
    for field, value in (("access_users", stranger.pk), ("access_teams", foreign_team.pk)):
        response = admin_client.post(
            edit_url(number), settings_post(number, access="selected", **{field: [value]})
        )
        assert response.status_code == 422
        assert "Select a valid choice" in response.content.decode()
    number.refresh_from_db()
    assert number.access_everyone
    assert not number.access_users.exists() and not number.access_teams.exists()


# --- Releasing -------------------------------------------------------------------------------


def test_release_an_unused_number(admin_client: Client, restricted: PhoneNumber) -> None:
    page = admin_client.get(edit_url(restricted)).content.decode()
    assert "Release this number" in page and "release/" in page
    response = admin_client.post(f"{edit_url(restricted)}release/", {"confirm": "on"})
    assert response.status_code == 302 and response["Location"] == LIST
    assert not PhoneNumber.objects.filter(pk=restricted.pk).exists()
    assert "(415) 555-0199 is released" in admin_client.get(LIST).content.decode()


def test_a_number_with_conversations_offers_no_release(
    admin: Membership, admin_client: Client, number: PhoneNumber
) -> None:
    message_send(phone_number=number, to="2025550172", body="Hi", membership=admin)
    page = admin_client.get(edit_url(number)).content.decode()
    assert "has 1 conversation, so it cannot be released" in page
    assert f"{edit_url(number)}release/" not in page
    response = admin_client.post(f"{edit_url(number)}release/", {"confirm": "on"})
    assert response.status_code == 302 and response["Location"] == edit_url(number)
    assert "cannot be released" in admin_client.get(edit_url(number)).content.decode()
    assert PhoneNumber.objects.filter(pk=number.pk).exists()


def test_release_is_post_only(admin_client: Client, restricted: PhoneNumber) -> None:
    assert admin_client.get(f"{edit_url(restricted)}release/").status_code == 405
    assert PhoneNumber.objects.filter(pk=restricted.pk).exists()


# --- What inbox settings mean in the inbox ---------------------------------------------------


def test_from_picker_of_a_standard_user_lists_only_their_numbers(
    org: Organization,
    admin: Membership,
    standard: Membership,
    number: PhoneNumber,
    restricted: PhoneNumber,
) -> None:
    third = PhoneNumber.objects.create(
        organization=org, number="+14155550198", carrier="simulator", access_everyone=False
    )
    client = logged_in(standard)

    def picker() -> str:
        page = client.get("/inbox/new/").content.decode()
        return page[page.index('<select id="id_from"') : page.index("</select>")]

    assert f'value="{number.pk}"' in picker()
    assert f'value="{restricted.pk}"' not in picker()
    admin_client = logged_in(admin)
    admin_client.post(
        edit_url(restricted),
        settings_post(restricted, access="selected", access_users=[standard.pk]),
    )
    admin_client.post(edit_url(number), settings_post(number, access="selected"))
    options = picker()
    assert f'value="{restricted.pk}"' in options
    assert f'value="{number.pk}"' not in options
    assert f'value="{third.pk}"' not in options
    assert options.count("<option") == 1
    # The admin's picker has them all.
    admin_page = admin_client.get("/inbox/new/").content.decode()
    assert all(f'value="{n.pk}"' in admin_page for n in (number, restricted, third))


def test_inbound_on_a_restricted_number_is_seen_only_by_its_users(
    org: Organization,
    admin: Membership,
    standard: Membership,
    limited: Membership,
    restricted: PhoneNumber,
) -> None:
    colleague = make_member(org, "colleague@acme.test", Role.STANDARD)
    team = Team.objects.create(organization=org, name="Nights")
    team.members.add(limited)
    admin_client = logged_in(admin)
    admin_client.post(
        edit_url(restricted),
        settings_post(
            restricted, access="selected", access_users=[standard.pk], access_teams=[team.pk]
        ),
    )
    carrier_event_record(
        "simulator",
        InboundMessage(
            carrier_message_id="restricted-1",
            from_number="+12025550172",
            to_number=restricted.number,
            body="Is the night clinic open?",
        ),
    )
    carrier_events_process_pending()
    conversation = Conversation.objects.get()
    assert conversation.phone_number == restricted

    for member, sees in ((standard, True), (limited, True), (admin, True), (colleague, False)):
        client = logged_in(member)
        listing = client.get("/inbox/list/?folder=needs_attention").content.decode()
        assert ("Is the night clinic open?" in listing) is sees, member
        assert client.get(f"/inbox/c/{conversation.pk}/").status_code == (200 if sees else 404)


def test_new_conversation_button_only_for_roles_that_can_start_one(
    admin: Membership, standard: Membership, limited: Membership, number: PhoneNumber
) -> None:
    button = 'href="/inbox/new/"'
    assert button in logged_in(admin).get("/inbox/").content.decode()
    assert button in logged_in(standard).get("/inbox/").content.decode()
    assert button not in logged_in(limited).get("/inbox/").content.decode()
    standard.can_send_sms = False
    standard.save()
    assert button not in logged_in(standard).get("/inbox/").content.decode()
