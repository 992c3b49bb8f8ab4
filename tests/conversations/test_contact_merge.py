"""Merging a contact into another: the chosen values survive, nothing of either is lost, opted
out wins in the ledger, the merged id leads to the survivor, and a refusal writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.conftest import make_member
from twoway.accounts.models import Membership, Organization, Role
from twoway.compliance.models import ConsentEvent, ConsentEventKind
from twoway.compliance.services import consent_record
from twoway.contacts.access import ContactMerged, access_contact
from twoway.contacts.models import (
    ConsentStatus,
    Contact,
    ContactGroup,
    ContactMerge,
    ContactPhone,
    CreatedFrom,
    CustomField,
    CustomFieldValue,
    OptInStatus,
    phones_in_order,
)
from twoway.contacts.services import UnknownCustomField
from twoway.conversations.contact_merge import contact_merge
from twoway.conversations.models import Conversation, Kind, Message
from twoway.core.errors import InvalidInput, NotFound, PermissionDenied
from twoway.numbers.models import PhoneNumber
from twoway.realtime.models import RealtimeEvent

pytestmark = pytest.mark.django_db


def _contact(org: Organization, first: str, last: str, *numbers: str, **fields: object) -> Contact:
    contact = Contact.objects.create(
        organization=org,
        first_name=first,
        last_name=last,
        name=f"{first} {last}".strip(),
        **fields,
    )
    for n, number in enumerate(numbers):
        ContactPhone.objects.create(
            organization=org, contact=contact, number=number, is_primary=n == 0
        )
    return contact


def _conversation(contact: Contact, number: PhoneNumber, handset: str, text: str) -> Conversation:
    conversation = Conversation.objects.create(
        organization=contact.organization,
        contact=contact,
        phone_number=number,
        contact_number=handset,
        last_message_at=timezone.now(),
    )
    Message.objects.create(
        organization=contact.organization,
        conversation=conversation,
        direction="in",
        body=text,
        from_number=handset,
        to_number=number.number,
        status="received",
    )
    Message.objects.create(
        organization=contact.organization,
        conversation=conversation,
        direction="out",
        kind=Kind.NOTE,
        body=f"note: {text}",
    )
    return conversation


@pytest.fixture
def tier(org: Organization) -> CustomField:
    return CustomField.objects.create(
        organization=org, name="Tier", kind="choice", options=["Gold", "Silver"]
    )


@pytest.fixture
def visits(org: Organization) -> CustomField:
    return CustomField.objects.create(organization=org, name="Visits", kind="number")


@pytest.fixture
def known(org: Organization, number: PhoneNumber, tier: CustomField) -> Contact:
    """The client as the business knows them."""
    dana = _contact(
        org,
        "Dana",
        "Whitfield",
        "+14155550123",
        "+14155550124",
        email="dana@example.com",
        client_id="C-1",
        created_from=CreatedFrom.IMPORT,
        consent_status=ConsentStatus.SENT,
    )
    dana.groups.add(ContactGroup.objects.create(organization=org, name="VIP"))
    CustomFieldValue.objects.create(contact=dana, field=tier, value="Gold")
    _conversation(dana, number, "+14155550123", "hello from the old phone")
    return dana


@pytest.fixture
def lead(org: Organization, number: PhoneNumber, visits: CustomField) -> Contact:
    """The same person texting from a new phone: a lead of their own."""
    new = _contact(
        org,
        "Dana",
        "W.",
        "+14155550199",
        email="dana.w@example.com",
        home_location="Uptown",
        created_from=CreatedFrom.INBOUND,
        source_number=number,
        lead_texted_at=timezone.now() - dt.timedelta(days=3),
    )
    new.groups.add(ContactGroup.objects.create(organization=org, name="Newsletter"))
    CustomFieldValue.objects.create(contact=new, field=visits, value="4")
    _conversation(new, number, "+14155550199", "hi it's Dana, new number")
    consent_record(
        organization_id=org.pk, contact_id=new.pk, kind=ConsentEventKind.OPT_IN, source="manual"
    )
    return new


def _merge(member: Membership, into: Contact, other: Contact, **kwargs: object) -> Contact:
    return contact_merge(membership=member, survivor_id=into.pk, merged_id=other.pk, **kwargs)  # type: ignore[arg-type]


def test_survivor_keeps_everything_of_both(
    standard: Membership, known: Contact, lead: Contact
) -> None:
    lead_id, lead_texted = lead.pk, lead.lead_texted_at
    survivor = _merge(standard, known, lead)
    survivor.refresh_from_db()
    assert not Contact.objects.filter(pk=lead_id).exists()
    # Its own values by default, the other's where its own were empty.
    assert (survivor.name, survivor.email, survivor.client_id, survivor.home_location) == (
        "Dana Whitfield",
        "dana@example.com",
        "C-1",
        "Uptown",
    )
    assert survivor.created_from == CreatedFrom.IMPORT
    assert survivor.lead_texted_at == lead_texted
    assert survivor.source_number_id == lead.source_number_id
    # Every phone, its primary still the primary.
    assert [(p.number, p.is_primary) for p in phones_in_order(survivor.phones.all())] == [
        ("+14155550123", True),
        ("+14155550124", False),
        ("+14155550199", False),
    ]
    assert sorted(g.name for g in survivor.groups.all()) == ["Newsletter", "VIP"]
    assert dict(survivor.custom_values.values_list("field__name", "value")) == {
        "Tier": "Gold",
        "Visits": "4",
    }
    conversations = Conversation.objects.filter(contact=survivor)
    assert sorted(conversations.values_list("contact_number", flat=True)) == [
        "+14155550123",
        "+14155550199",
    ]
    bodies = set(
        Message.objects.filter(conversation__contact=survivor).values_list("body", flat=True)
    )
    assert bodies == {
        "hello from the old phone",
        "note: hello from the old phone",
        "hi it's Dana, new number",
        "note: hi it's Dana, new number",
    }
    # The lead's ledger entry is the survivor's now; nobody opted out, so no merge entry.
    assert list(survivor.consent_events.values_list("kind", "source")) == [("opt_in", "manual")]
    # A consent message the lead never had goes out again.
    assert survivor.consent_status == ConsentStatus.NOT_SENT
    # Open inboxes redraw both conversations.
    events = RealtimeEvent.objects.filter(kind="conversation.updated")
    assert set(events.values_list("conversation_id", flat=True)) == set(
        conversations.values_list("pk", flat=True)
    )


@pytest.mark.parametrize("later", ["survivor", "merged", "neither"])
def test_the_survivor_keeps_the_later_last_activity(
    standard: Membership, known: Contact, lead: Contact, later: str
) -> None:
    at = timezone.now()
    texted = {"survivor": (at, at - dt.timedelta(hours=1)), "merged": (None, at)}
    survivor_at, merged_at = texted.get(later, (None, None))
    Contact.objects.filter(pk=known.pk).update(last_activity_at=survivor_at)
    Contact.objects.filter(pk=lead.pk).update(last_activity_at=merged_at)
    known.refresh_from_db()
    lead.refresh_from_db()
    survivor = _merge(standard, known, lead)
    survivor.refresh_from_db()
    assert survivor.last_activity_at == (None if later == "neither" else at)


def test_chosen_values_survive(
    standard: Membership, known: Contact, lead: Contact, tier: CustomField
) -> None:
    CustomFieldValue.objects.create(contact=lead, field=tier, value="Silver")
    survivor = _merge(
        standard,
        known,
        lead,
        keep={"last_name": "other", "email": "other", "home_location": "this"},
        keep_custom={"Tier": "other"},
    )
    survivor.refresh_from_db()
    assert (survivor.name, survivor.last_name, survivor.email, survivor.home_location) == (
        "Dana W.",
        "W.",
        "dana.w@example.com",
        "",
    )
    assert CustomFieldValue.objects.get(contact=survivor, field=tier).value == "Silver"


def test_opted_out_wins_and_the_ledger_says_so(
    standard: Membership, known: Contact, lead: Contact
) -> None:
    Contact.objects.filter(pk=lead.pk).update(opt_in_status=OptInStatus.OPTED_OUT)
    lead_id = lead.pk
    survivor = _merge(standard, known, lead)
    survivor.refresh_from_db()
    assert survivor.opt_in_status == OptInStatus.OPTED_OUT
    entry = survivor.consent_events.get(source="merge")
    assert entry.kind == "opt_out"
    assert f"contact {lead_id}, opted out" in entry.text
    assert f"contact {known.pk}, opted in" in entry.text
    assert standard.user.email in entry.text


@pytest.mark.parametrize("flagged", ["survivor", "merged"])
def test_a_possible_opt_out_waiting_on_either_still_waits_after_the_merge(
    standard: Membership, known: Contact, lead: Contact, flagged: str
) -> None:
    at = timezone.now() - dt.timedelta(hours=2)
    Contact.objects.filter(pk=(known if flagged == "survivor" else lead).pk).update(
        opt_out_flagged_at=at
    )
    known.refresh_from_db()
    lead.refresh_from_db()
    survivor = _merge(standard, known, lead)
    survivor.refresh_from_db()
    assert survivor.opt_out_flagged_at == at


def test_an_opt_out_decides_a_possible_opt_out_of_the_other(
    standard: Membership, known: Contact, lead: Contact
) -> None:
    Contact.objects.filter(pk=known.pk).update(opt_out_flagged_at=timezone.now())
    Contact.objects.filter(pk=lead.pk).update(opt_in_status=OptInStatus.OPTED_OUT)
    known.refresh_from_db()
    lead.refresh_from_db()
    survivor = _merge(standard, known, lead)
    survivor.refresh_from_db()
    assert survivor.opt_in_status == OptInStatus.OPTED_OUT
    assert survivor.opt_out_flagged_at is None


def test_a_survivor_without_phones_takes_the_primary(
    org: Organization, standard: Membership, lead: Contact
) -> None:
    bare = Contact.objects.create(organization=org, name="Dana", first_name="Dana")
    survivor = _merge(standard, bare, lead)
    assert [(p.number, p.is_primary) for p in survivor.phones.all()] == [("+14155550199", True)]


def test_an_unmarked_primary_stays_the_primary(
    org: Organization, standard: Membership, lead: Contact
) -> None:
    # A texting path's contact: no phone marked, its oldest is the primary. The lead's
    # number is older still.
    late = Contact.objects.create(organization=org)
    ContactPhone.objects.create(organization=org, contact=late, number="+14155550177")
    survivor = _merge(standard, late, lead)
    assert phones_in_order(survivor.phones.all())[0].number == "+14155550177"


def test_the_merged_id_leads_to_the_survivor_even_after_another_merge(
    org: Organization, standard: Membership, known: Contact, lead: Contact
) -> None:
    lead_id = lead.pk
    _merge(standard, known, lead)
    with pytest.raises(ContactMerged) as merged:
        access_contact(standard, lead_id)
    assert merged.value.survivor_id == known.pk
    assert merged.value.status == 404
    third = _contact(org, "Dana", "Whitfield", "+14155550155")
    known_id = known.pk
    _merge(standard, third, known)
    for gone in (lead_id, known_id):
        with pytest.raises(ContactMerged) as merged:
            access_contact(standard, gone)
        assert merged.value.survivor_id == third.pk
    # Another organization's members find nothing there.
    stranger = make_member(Organization.objects.create(name="Other"), "x@other.test")
    with pytest.raises(NotFound) as missing:
        access_contact(stranger, lead_id)
    assert not isinstance(missing.value, ContactMerged)


def _snapshot() -> tuple[object, ...]:
    return (
        list(Contact.objects.order_by("pk").values()),
        list(ContactPhone.objects.order_by("pk").values()),
        list(Conversation.objects.order_by("pk").values("pk", "contact_id")),
        list(ConsentEvent.objects.order_by("pk").values()),
        list(CustomFieldValue.objects.order_by("pk").values()),
        ContactMerge.objects.count(),
        RealtimeEvent.objects.count(),
    )


def test_refusals_write_nothing(
    org: Organization,
    other_org: Organization,
    standard: Membership,
    limited: Membership,
    known: Contact,
    lead: Contact,
) -> None:
    outsider = _contact(other_org, "Dana", "Whitfield", "+14155550123")
    before = _snapshot()
    with pytest.raises(InvalidInput) as same:
        _merge(standard, known, known)
    assert same.value.code == "merge_same_contact"
    with pytest.raises(NotFound):
        _merge(standard, known, outsider)
    with pytest.raises(NotFound):
        _merge(standard, outsider, known)
    with pytest.raises(PermissionDenied):
        _merge(limited, known, lead)
    with pytest.raises(UnknownCustomField):
        _merge(standard, known, lead, keep_custom={"Shoe size": "other"})
    with pytest.raises(InvalidInput) as bad:
        _merge(standard, known, lead, keep={"email": "both"})
    assert bad.value.code == "invalid_keep"
    assert _snapshot() == before


def test_admin_may_merge(org: Organization, known: Contact, lead: Contact) -> None:
    admin = make_member(org, "boss@acme.test", Role.ADMINISTRATIVE)
    assert _merge(admin, known, lead).pk == known.pk
