"""The search page (/search/) and the API's GET /api/v1/search."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.conftest import logged_in, make_member
from tests.conversations.test_search import make_conversation, say
from twoway.accounts.models import ApiKey, Membership, Organization, Role
from twoway.conversations.models import Conversation, Folder, Kind
from twoway.numbers.models import PhoneNumber

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(number: PhoneNumber) -> Conversation:
    return make_conversation(number, name="Dana Whitfield", contact_number="+14155550123")


def test_the_inbox_has_a_search_box(admin_client: Client) -> None:
    html = admin_client.get(reverse("inbox")).content.decode()
    assert f'action="{reverse("search")}"' in html
    assert 'type="search"' in html and 'name="q"' in html


def test_results_link_to_their_conversation_newest_first(
    admin_client: Client, number: PhoneNumber, thread: Conversation
) -> None:
    older = say(thread, "Your crown is ready", at=timezone.now() - datetime.timedelta(days=2))
    archived = make_conversation(number, name="Old Client", folder=Folder.ARCHIVED)
    newer = say(archived, "Crown fitted, thanks")
    response = admin_client.get(reverse("search"), {"q": "crown"})
    assert response.status_code == 200
    html = response.content.decode()
    url = reverse("conversation", args=[archived.pk])
    assert f'href="{url}?around={newer.uid}#message-{newer.uid}"' in html
    assert html.index(str(newer.uid)) < html.index(str(older.uid))
    assert "<mark>Crown</mark> fitted" in html
    assert "archived" in html
    assert "Dana Whitfield" in html and "Old Client" in html


def test_everything_is_escaped(admin_client: Client, number: PhoneNumber) -> None:
    evil = make_conversation(number, name="Bob <img src=x onerror=alert(1)>")
    say(evil, "<script>alert('boom')</script> invoice")
    html = admin_client.get(reverse("search"), {"q": "invoice"}).content.decode()
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#x27;boom&#x27;)&lt;/script&gt; <mark>invoice</mark>" in html
    html = admin_client.get(reverse("search"), {"q": "bob"}).content.decode()
    assert "<mark>Bob</mark> &lt;img src=x onerror=alert(1)&gt;" in html


def test_htmx_gets_the_results_alone(admin_client: Client, thread: Conversation) -> None:
    say(thread, "gums sore")
    response = admin_client.get(reverse("search"), {"q": "gums"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<mark>gums</mark> sore" in html
    assert "<form" not in html and "<html" not in html


def test_contacts_by_name_and_number(admin_client: Client, thread: Conversation) -> None:
    for q in ("whit", "(415) 555-0123"):
        html = admin_client.get(reverse("search"), {"q": q}).content.decode()
        assert f'data-conversation="{thread.pk}"' in html


def test_filters_narrow_the_results(
    admin_client: Client, org: Organization, number: PhoneNumber, thread: Conversation
) -> None:
    second = PhoneNumber.objects.create(organization=org, number="+14155550112")
    say(thread, "wire loose", at=timezone.now() - datetime.timedelta(days=30))
    other = say(make_conversation(second), "wire fixed")
    page = lambda **params: admin_client.get(reverse("search"), {"q": "wire", **params})  # noqa: E731
    assert page(number=second.pk).content.decode().count("data-message=") == 1
    # The date filters read dates in the organization's time zone.
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(org.time_zone)).isoformat()
    html = page(**{"from": today}).content.decode()
    assert str(other.uid) in html and html.count("data-message=") == 1
    assert page(folder=Folder.ARCHIVED).content.decode().count("data-message=") == 0
    # Nonsense filters are ignored rather than failing.
    assert page(folder="nope", number="x", to="yesterday").status_code == 200


def test_a_number_not_open_to_the_member_is_not_found(
    org: Organization, standard: Membership, number: PhoneNumber
) -> None:
    restricted = PhoneNumber.objects.create(
        organization=org, number="+14155550111", access_everyone=False
    )
    say(make_conversation(restricted), "secret molar")
    client = logged_in(standard)
    html = client.get(reverse("search"), {"q": "molar"}).content.decode()
    assert "secret" not in html and "Nothing matches" in html
    assert client.get(reverse("search"), {"q": "molar", "number": restricted.pk}).status_code == 404


def test_special_characters_and_empty_queries_render(admin_client: Client) -> None:
    for q in ['"', "NEAR(", "*", "-foo", "😀", "", "   ", "AND OR NOT"]:
        assert admin_client.get(reverse("search"), {"q": q}).status_code == 200


def test_login_required(client: Client) -> None:
    response = client.get(reverse("search"), {"q": "x"})
    assert response.status_code == 302 and "/login/" in response["Location"]


# ---- API ------------------------------------------------------------------------------------


@pytest.fixture
def api(admin: Membership) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(owner=admin, name='CRM')[1]}")


def _get(api: Client, **params: Any) -> Any:
    return api.get("/api/v1/search", params)


def test_api_search(api: Client, number: PhoneNumber, thread: Conversation) -> None:
    say(thread, "booking note: deposit paid", kind=Kind.NOTE)
    message = say(thread, "deposit refund please")
    response = _get(api, q="Deposit")
    assert response.status_code == 200
    body = response.json()
    assert body["terms"] == ["deposit"]
    assert [m["body"] for m in body["messages"]] == [
        "deposit refund please",
        "booking note: deposit paid",
    ]
    assert body["messages"][0]["id"] == str(message.uid)
    assert body["messages"][0]["conversation_id"] == thread.pk
    assert body["messages"][1]["kind"] == "note"
    assert [c["id"] for c in _get(api, q="dana").json()["conversations"]] == [thread.pk]
    assert len(_get(api, q="deposit", limit=1).json()["messages"]) == 1
    assert _get(api, q="deposit", folder="archived").json()["messages"] == []


def test_api_errors(api: Client, other_org: Organization, client: Client) -> None:
    empty = _get(api, q="  ")
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "empty_query"
    assert _get(api).status_code == 422
    assert _get(api, q="x", limit=0).status_code == 422
    assert _get(api, q="x", folder="nope").status_code == 422
    # Dates are ISO 8601 text, as the schema says; a bare number is not taken as a timestamp.
    assert _get(api, q="x", until="-4399392963").status_code == 422
    assert _get(api, q="x", since="1700000000").status_code == 422
    assert _get(api, q="x", since="2026-11-23T09:00:00Z").status_code == 200
    theirs = PhoneNumber.objects.create(organization=other_org, number="+14155550199")
    assert _get(api, q="x", number_id=theirs.pk).status_code == 404
    assert client.get("/api/v1/search", {"q": "x"}).status_code == 401


def test_api_never_shows_another_organization(
    api: Client, other_org: Organization, thread: Conversation
) -> None:
    their_number = PhoneNumber.objects.create(organization=other_org, number="+14155550199")
    say(make_conversation(their_number, name="Dana Theirs"), "zeppelin")
    member = make_member(other_org, "them@other.test", Role.ADMINISTRATIVE)
    theirs = Client(HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(owner=member, name='x')[1]}")
    say(thread, "zeppelin")
    mine = _get(api, q="zeppelin").json()
    assert [m["conversation_id"] for m in mine["messages"]] == [thread.pk]
    assert [c["id"] for c in _get(api, q="dana").json()["conversations"]] == [thread.pk]
    assert len(_get(theirs, q="zeppelin").json()["messages"]) == 1


def test_the_contact_filters_narrow_the_results_and_stay_picked(
    admin_client: Client, org: Organization, number: PhoneNumber, thread: Conversation
) -> None:
    from twoway.contacts.models import Contact, ContactGroup

    vip = ContactGroup.objects.create(organization=org, name="VIP")
    thread.contact.groups.add(vip)
    Contact.objects.filter(pk=thread.contact_id).update(client_type="Patient")
    say(thread, "Your crown is ready")
    say(make_conversation(number, name="Other Client"), "Crown fitted, thanks")
    html = admin_client.get(reverse("search"), {"q": "crown", "group": vip.pk}).content.decode()
    assert "Your <mark>crown</mark> is ready" in html and "fitted" not in html
    assert f'<option value="{vip.pk}" selected>VIP</option>' in html
    assert '<option value="Patient">Patient</option>' in html
    html = admin_client.get(
        reverse("search"), {"q": "crown", "client_type": "Nobody"}
    ).content.decode()
    assert "ready" not in html and "fitted" not in html
