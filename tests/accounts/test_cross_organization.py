"""Cross-organization access: every URL of the project that takes an id, a uuid or a token,
tried by another organization's administrator, must answer 404 (or 403) and show none of the
row's data, and change nothing.

The URLs are enumerated from Django's resolver, so a new URL that takes an id fails
`test_every_url_with_an_id_is_in_the_table` until it gets an entry in `TABLE` below.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from tests.conftest import logged_in, make_member
from twoway.accounts.models import ApiKey, Invitation, Membership, Organization, Role, Team
from twoway.answering.models import Answering, KeywordRule
from twoway.canned.models import CannedResponse
from twoway.carrier_accounts.models import CarrierAccount
from twoway.carrier_accounts.services import carrier_account_create
from twoway.carrier_events.models import CarrierEvent
from twoway.compliance.models import ConsentEvent, Keyword
from twoway.contacts.models import (
    Contact,
    ContactExport,
    ContactGroup,
    ContactImport,
    ContactPhone,
    CustomField,
)
from twoway.conversations.models import Conversation, Direction, Folder, Message, Status
from twoway.drips.models import AppliedDrip, AppliedDripStep, DripCampaign, DripStep
from twoway.media.models import MessageMedia
from twoway.numbers.models import PhoneNumber
from twoway.numbers.services import SIMULATED_SYSTEM_NUMBER, system_number_ensure_simulated
from twoway.simulator.models import SimHandset, SimMessage
from twoway.simulator.network import handset_get
from twoway.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

# What the victim organization holds; none of it may appear in an answer to the outsider.
SECRETS = {
    "contact_name": "Zebediah Quux",
    "contact_email": "zebediah@private.test",
    "contact_number": "+14155550177",
    "contact_number_shown": "(415) 555-0177",
    "message_body": "my-secret-diagnosis-42",
    "system_text": "your-secret-appointment-at-9",
    # A client the victim is texting from the system number, the text still queued.
    "queued_number": "+14155550178",
    "queued_number_shown": "(415) 555-0178",
    "queued_text": "your-secret-reminder-for-tomorrow",
    "note_body": "internal-note-about-zebediah",
    "team_name": "Night Shift Secret",
    "member_email": "victim-agent@acme.test",
    "invited_email": "invitee@acme.test",
    "number_label": "Secret clinic line",
    "carrier_account_name": "Secret clinic Twilio",
    "carrier_account_sid": "AC" + "5ec2e7" * 5 + "a9",
    "carrier_auth_token": "7e57ab1e" * 3 + "5ec2e7a9",
    "canned_name": "Zebediah's recall script",
    "canned_body": "your-secret-canned-wording",
    "webhook_url": "https://hooks.secret-clinic.test/twoway",
    "webhook_secret": "whsec_c2VjcmV0LWNsaW5pYy13ZWJob29rLWtleQ==",
    "webhook_body": "secret-webhook-delivery-body",
    "drip_name": "Zebediah's secret drip",
    "drip_step": "your-secret-drip-wording",
}


@dataclass
class Victim:
    org: Organization
    admin: Membership
    member: Membership
    number: PhoneNumber
    contact: Contact
    conversation: Conversation
    message: Message
    team: Team
    invitation: Invitation
    key: ApiKey
    key_prefix: str = field(default="")


@pytest.fixture
def victim(org: Organization) -> Victim:
    admin = make_member(org, "victim-admin@acme.test", Role.ADMINISTRATIVE)
    member = make_member(org, SECRETS["member_email"], Role.STANDARD)
    number = PhoneNumber.objects.create(
        organization=org,
        number="+14155550170",
        carrier="simulator",
        label=SECRETS["number_label"],
    )
    contact = Contact.objects.create(
        organization=org, name=SECRETS["contact_name"], email=SECRETS["contact_email"]
    )
    ContactPhone.objects.create(organization=org, contact=contact, number=SECRETS["contact_number"])
    conversation = Conversation.objects.create(
        organization=org,
        contact=contact,
        phone_number=number,
        contact_number=SECRETS["contact_number"],
        folder=Folder.NEEDS_ATTENTION,
        unread_count=1,
        last_message_at=timezone.now(),
        last_message_preview=SECRETS["message_body"],
    )
    # The contact's text crossed the simulated network: the handset has traffic with the victim.
    sim = SimMessage.objects.create(
        handset=handset_get(SECRETS["contact_number"]),
        direction=SimMessage.MO,
        business_number=number.number,
        body=SECRETS["message_body"],
    )
    message = Message.objects.create(
        organization=org,
        conversation=conversation,
        direction=Direction.INBOUND,
        body=SECRETS["message_body"],
        status=Status.RECEIVED,
        from_number=SECRETS["contact_number"],
        to_number=number.number,
        carrier="simulator",
        carrier_message_id=str(sim.sid),
    )
    Message.objects.create(
        organization=org,
        conversation=conversation,
        direction=Direction.OUTBOUND,
        kind="note",
        body=SECRETS["note_body"],
    )
    # A transactional text that left from the shared system number reached the handset too.
    system = system_number_ensure_simulated()
    transactional = Message.objects.create(
        organization=org,
        conversation=conversation,
        direction=Direction.OUTBOUND,
        category="transactional",
        body=SECRETS["system_text"],
        status=Status.DELIVERED,
        from_number=system.number,
        to_number=SECRETS["contact_number"],
        carrier="simulator",
    )
    SimMessage.objects.create(
        handset=handset_get(SECRETS["contact_number"]),
        direction=SimMessage.MT,
        business_number=system.number,
        body=SECRETS["system_text"],
        idempotency_key=str(transactional.uid),
        status="delivered",
    )
    Message.objects.create(
        organization=org,
        direction=Direction.OUTBOUND,
        category="transactional",
        body=SECRETS["queued_text"],
        status=Status.QUEUED,
        from_number=system.number,
        to_number=SECRETS["queued_number"],
        carrier="simulator",
    )
    carrier_account_create(
        actor=None,
        organization=org,
        carrier="twilio",
        name=SECRETS["carrier_account_name"],
        credentials={
            "account_sid": SECRETS["carrier_account_sid"],
            "auth_token": SECRETS["carrier_auth_token"],
        },
    )
    team = Team.objects.create(organization=org, name=SECRETS["team_name"])
    team.members.add(member)
    invitation = Invitation.objects.create(
        organization=org,
        email=SECRETS["invited_email"],
        token="victim-invitation-token",
        expires_at=timezone.now() + timezone.timedelta(days=7),
    )
    key, raw = ApiKey.issue(owner=admin, name="Victim CRM")
    return Victim(
        org, admin, member, number, contact, conversation, message, team, invitation, key, raw[:10]
    )


@pytest.fixture
def outsider(other_org: Organization) -> Membership:
    """An administrator of another organization, with a number and a conversation of their own."""
    admin = make_member(other_org, "outsider@other.test", Role.ADMINISTRATIVE)
    PhoneNumber.objects.create(organization=other_org, number=OUTSIDER_NUMBER, carrier="simulator")
    return admin


def snapshot(org: Organization) -> dict[str, list[Any]]:
    """The victim's rows, to prove an attempt changed nothing."""
    return {
        "conversations": list(
            Conversation.objects.filter(organization=org).values().order_by("pk")
        ),
        "messages": list(Message.objects.filter(organization=org).values().order_by("pk")),
        "contacts": list(Contact.objects.filter(organization=org).values().order_by("pk")),
        "numbers": list(
            PhoneNumber.all_objects.filter(organization=org)
            .values(
                "pk", "number", "label", "released_at", "verification_status", "access_everyone"
            )
            .order_by("pk")
        ),
        "members": list(
            Membership.objects.filter(organization=org)
            .values("pk", "role", "can_send_sms", "user__is_active")
            .order_by("pk")
        ),
        "teams": list(Team.objects.filter(organization=org).values("pk", "name").order_by("pk")),
        "keywords": list(Keyword.objects.filter(organization=org).values().order_by("pk")),
        "keyword_rules": list(KeywordRule.objects.filter(organization=org).values().order_by("pk")),
        "answering": list(Answering.objects.filter(organization=org).values()),
        "consent": list(ConsentEvent.objects.filter(organization=org).values().order_by("pk")),
        "contact_groups": list(
            ContactGroup.objects.filter(organization=org).values("pk", "name").order_by("pk")
        ),
        "custom_fields": list(CustomField.objects.filter(organization=org).values().order_by("pk")),
        "contact_imports": list(
            ContactImport.objects.filter(organization=org).values().order_by("pk")
        ),
        "invitations": list(
            Invitation.objects.filter(organization=org).values("pk", "expires_at", "accepted_at")
        ),
        "keys": list(ApiKey.objects.filter(organization=org).values("pk", "revoked_at")),
        "carrier_accounts": list(
            CarrierAccount.objects.filter(organization=org).values().order_by("pk")
        ),
        "canned_responses": list(
            CannedResponse.objects.filter(organization=org).values().order_by("pk")
        ),
        "drip_campaigns": list(
            DripCampaign.objects.filter(organization=org).values().order_by("pk")
        ),
        "drip_steps": list(
            DripStep.objects.filter(campaign__organization=org).values().order_by("pk")
        ),
        "applied_drips": list(AppliedDrip.objects.filter(organization=org).values().order_by("pk")),
        "applied_drip_steps": list(
            AppliedDripStep.objects.filter(applied__organization=org).values().order_by("pk")
        ),
        # The victim's client's simulated phone: nothing texted from it, its behaviour kept.
        "handset": list(
            SimHandset.objects.filter(number__in=HANDSETS).values("behaviour", "claimed_by")
        ),
        "handset_texts": list(
            SimMessage.objects.filter(handset__number__in=HANDSETS)
            .values("pk", "direction", "business_number", "body")
            .order_by("pk")
        ),
        "events": CarrierEvent.objects.count(),
        "webhook_endpoints": list(
            WebhookEndpoint.objects.filter(organization=org).values().order_by("pk")
        ),
        "webhook_deliveries": list(
            WebhookDelivery.objects.filter(endpoint__organization=org).values().order_by("pk")
        ),
        "webhook_attempts": WebhookAttempt.objects.count(),
    }


# ---- the table: every URL that takes an id --------------------------------------------------


@dataclass(frozen=True)
class Case:
    """How to attack one URL: its arguments from the victim's rows, the requests to make."""

    kwargs: Callable[[Victim], dict[str, Any]]
    # (method, data) pairs; JSON bodies for the API.
    requests: tuple[tuple[str, dict[str, Any] | None], ...] = (("get", None), ("post", {}))
    api: bool = False
    # Statuses that count as refused. 405: a GET to a POST-only view refuses before any lookup.
    refused: frozenset[int] = frozenset({403, 404, 405})
    # SECRETS the request itself carries (the simulator's URL is a phone number): the page may
    # repeat what the outsider typed, nothing else.
    echoes: frozenset[str] = frozenset()
    # The same URL with other rows of the victim's, attacked the same way.
    also: tuple[Callable[[Victim], dict[str, Any]], ...] = ()


def conversation_id(v: Victim) -> dict[str, Any]:
    return {"conversation_id": v.conversation.pk}


def failed_text(v: Victim) -> dict[str, Any]:
    """The victim's text, failed so that Retry would send it again."""
    Message.objects.filter(pk=v.message.pk).update(
        direction=Direction.OUTBOUND, status=Status.FAILED, category="direct"
    )
    return {"conversation_id": v.conversation.pk, "uid": v.message.uid}


def flagged_conversation(v: Victim) -> dict[str, Any]:
    """The victim's conversation, its contact's worded opt-out waiting for a decision."""
    Contact.objects.filter(pk=v.conversation.contact_id).update(opt_out_flagged_at=timezone.now())
    return {"conversation_id": v.conversation.pk}


def victim_picture(v: Victim) -> MessageMedia:
    """A picture on the victim's text, stored, as an MMS they sent keeps it."""
    name = default_storage.save("media/victim-picture.png", ContentFile(b"\x89PNG\r\n\x1a\n"))
    found, _ = MessageMedia.objects.get_or_create(
        organization=v.org,
        message=v.message,
        position=0,
        defaults={"status": "ready", "content_type": "image/png", "size": 8, "storage_name": name},
    )
    return found


def media_id(v: Victim) -> dict[str, Any]:
    return {"media_id": victim_picture(v).pk}


def phone_media(v: Victim) -> dict[str, Any]:
    """The victim's text on their client's simulated phone, with a picture on its screen."""
    picture = victim_picture(v)
    shown = SimMessage.objects.filter(handset__number=SECRETS["contact_number"]).first()
    assert shown is not None
    shown.media = [{"name": picture.storage_name, "content_type": "image/png"}]
    shown.save(update_fields=["media"])
    return {"number": SECRETS["contact_number"], "sid": shown.sid, "index": 0}


def keyword_id(v: Victim) -> dict[str, Any]:
    found, _ = Keyword.objects.get_or_create(organization=v.org, word="PARAR", action="opt_out")
    return {"keyword_id": found.pk}


def keyword_rule_id(v: Victim) -> dict[str, Any]:
    response = CannedResponse.objects.create(organization=v.org, name="Hours", body="9 to 5")
    found = KeywordRule.objects.create(organization=v.org, keyword="HOURS", response=response)
    return {"rule_id": found.pk}


def scheduled_text(v: Victim) -> dict[str, Any]:
    """The victim's text, scheduled for tomorrow, so that it could still be changed or
    cancelled."""
    Message.objects.filter(pk=v.message.pk).update(
        direction=Direction.OUTBOUND,
        status=Status.SCHEDULED,
        category="direct",
        send_at=timezone.now() + timezone.timedelta(days=1),
    )
    return {"conversation_id": v.conversation.pk, "uid": v.message.uid}


SCHEDULED_CHANGE = {"body": "Changed by someone else", "send_at": "2030-01-01T09:00:00-05:00"}


def number_id(v: Victim) -> dict[str, Any]:
    return {"number_id": v.number.pk}


def membership_id(v: Victim) -> dict[str, Any]:
    return {"membership_id": v.member.pk}


def team_id(v: Victim) -> dict[str, Any]:
    return {"team_id": v.team.pk}


def contact_id(v: Victim) -> dict[str, Any]:
    return {"contact_id": v.contact.pk}


def contact_with_ledger(v: Victim) -> dict[str, Any]:
    """The victim's contact, with the text that opted them out in the consent ledger."""
    victim_ledger_entry(v)
    return contact_id(v)


def victim_ledger_entry(v: Victim) -> ConsentEvent:
    entry, _ = ConsentEvent.objects.get_or_create(
        organization=v.org,
        contact=v.contact,
        kind="opt_out",
        source="keyword",
        text=SECRETS["message_body"],
        phone_number=SECRETS["contact_number"],
    )
    return entry


def group_id(v: Victim) -> dict[str, Any]:
    group, _ = ContactGroup.objects.get_or_create(organization=v.org, name="Their regulars")
    return {"group_id": group.pk}


def field_id(v: Victim) -> dict[str, Any]:
    field, _ = CustomField.objects.get_or_create(
        organization=v.org, name="Their tier", kind="choice", defaults={"options": ["Gold"]}
    )
    return {"field_id": field.pk}


def export_id(v: Victim) -> dict[str, Any]:
    """A finished export of the victim's contacts, asked for by their administrator."""
    found = ContactExport.objects.create(
        organization=v.org, created_by=v.admin, status="done", stored_name="exports/theirs.csv"
    )
    return {"export_id": found.pk}


def import_id(v: Victim) -> dict[str, Any]:
    """An import of the victim's, its columns not matched yet (so it could still be started
    or cancelled)."""
    found, _ = ContactImport.objects.get_or_create(
        organization=v.org,
        file_name="zebediah-quux-clients.csv",
        defaults={"encoding": "utf-8-sig", "delimiter": ",", "columns": ["Phone"]},
        mapping=["phone"],
    )
    found.problems.get_or_create(row=2, column="Phone", reason=SECRETS["contact_name"])
    return {"import_id": found.pk}


IMPORT_REQUESTS = (
    ("get", None),
    ("post", {"action": "cancel"}),
    ("post", {"action": "start", "field": ["phone"]}),
)

SYSTEM_NUMBER = SIMULATED_SYSTEM_NUMBER
OUTSIDER_NUMBER = "+14155550199"
EXPORT = {"start": str(timezone.localdate()), "end": str(timezone.localdate()), "format": "csv"}
HANDSET = frozenset(
    {"contact_number", "contact_number_shown", "queued_number", "queued_number_shown"}
)
HANDSETS = (SECRETS["contact_number"], SECRETS["queued_number"])


def queued_handset(v: Victim) -> dict[str, Any]:
    return {"number": SECRETS["queued_number"]}


def canned_id(v: Victim) -> dict[str, Any]:
    """The victim's organization-wide canned response."""
    canned, _ = CannedResponse.objects.get_or_create(
        organization=v.org, owner=None, name=SECRETS["canned_name"], body=SECRETS["canned_body"]
    )
    return {"canned_id": canned.pk}


def personal_canned_id(v: Victim) -> dict[str, Any]:
    """A canned response of the victim's administrator's own."""
    canned, _ = CannedResponse.objects.get_or_create(
        organization=v.org, owner=v.admin, name=SECRETS["canned_name"], body=SECRETS["canned_body"]
    )
    return {"canned_id": canned.pk}


def canned_in_conversation(v: Victim) -> dict[str, Any]:
    return {**conversation_id(v), **canned_id(v)}


def personal_canned_in_conversation(v: Victim) -> dict[str, Any]:
    return {**conversation_id(v), **personal_canned_id(v)}


def drip_campaign_id(v: Victim) -> dict[str, Any]:
    """The victim's drip campaign of one step."""
    campaign, created = DripCampaign.objects.get_or_create(
        organization=v.org, name=SECRETS["drip_name"]
    )
    if created:
        DripStep.objects.create(
            campaign=campaign, position=1, body=SECRETS["drip_step"], delay_days=1
        )
    return {"campaign_id": campaign.pk}


def applied_drip(v: Victim) -> dict[str, Any]:
    """The victim's drip campaign applied in the victim's conversation, its step waiting."""
    campaign = DripCampaign.objects.get(pk=drip_campaign_id(v)["campaign_id"])
    applied = AppliedDrip.objects.create(
        organization=v.org,
        conversation=v.conversation,
        campaign=campaign,
        campaign_name=campaign.name,
    )
    Message.objects.filter(pk=v.message.pk).update(
        direction=Direction.OUTBOUND,
        status=Status.SCHEDULED,
        category="drip",
        send_at=timezone.now() + timezone.timedelta(days=1),
    )
    AppliedDripStep.objects.create(applied=applied, message=v.message, position=1)
    return {"conversation_id": v.conversation.pk, "applied_id": applied.pk}


DRIP_EDIT = {"name": "Taken", "step-0-body": "x", "step-0-days": "1"}


CANNED_EDITS = (("post", {"name": "Taken", "body": "x"}), ("post", {"delete": "1"}))


def carrier_account(v: Victim) -> CarrierAccount:
    return CarrierAccount.objects.get(organization=v.org)


def webhook_endpoint(v: Victim) -> WebhookEndpoint:
    """The victim's endpoint (written as is: its test host resolves nowhere), with a delivery."""
    endpoint, created = WebhookEndpoint.objects.get_or_create(
        organization=v.org,
        url=SECRETS["webhook_url"],
        defaults={"event_types": ["message.received"], "secret": SECRETS["webhook_secret"]},
    )
    if created:
        WebhookDelivery.objects.create(
            endpoint=endpoint, event_type="message.received", body=SECRETS["webhook_body"]
        )
    return endpoint


def endpoint_id(v: Victim) -> dict[str, Any]:
    return {"endpoint_id": webhook_endpoint(v).pk}


def delivery_ids(v: Victim) -> dict[str, Any]:
    endpoint = webhook_endpoint(v)
    delivery = endpoint.deliveries.get()
    return {"endpoint_id": endpoint.pk, "delivery_id": delivery.pk}


TABLE: dict[str, Case] = {
    # Inbox
    "conversation": Case(conversation_id),
    "conversation_panel": Case(conversation_id),
    "conversation_thread": Case(conversation_id),
    "conversation_header": Case(conversation_id),
    "conversation_send": Case(conversation_id, (("post", {"body": "hi"}),)),
    "conversation_note": Case(conversation_id, (("post", {"body": "hi"}),)),
    "message_retry": Case(failed_text, (("post", {}),)),
    "conversation_schedule": Case(
        conversation_id, (("post", {"body": "Hi", "send_at": "2030-01-01T09:00"}),)
    ),
    "scheduled_text_edit": Case(
        scheduled_text, (("post", {"body": "Changed", "send_at": "2030-01-01T09:00"}),)
    ),
    "scheduled_text_cancel": Case(scheduled_text, (("post", {}),)),
    "conversation_archive": Case(conversation_id),
    "conversation_unarchive": Case(conversation_id),
    "conversation_unread": Case(conversation_id),
    "conversation_mute": Case(conversation_id),
    "conversation_unmute": Case(conversation_id),
    "conversation_assign": Case(
        conversation_id, (("post", {"assignee": ""}), ("post", {"assignee": "user:1"}))
    ),
    "conversation_delete": Case(conversation_id),
    "conversation_opt_out_review": Case(
        flagged_conversation, (("post", {"decision": "confirm"}), ("post", {"decision": "dismiss"}))
    ),
    "conversation_export": Case(conversation_id, (("get", EXPORT), ("get", None))),
    "canned_picker": Case(conversation_id, (("get", None),)),
    "drip_picker": Case(conversation_id, (("get", None),)),
    "conversation_drip_apply": Case(conversation_id, (("post", {"campaign_id": "1"}),)),
    "conversation_drip_cancel": Case(applied_drip, (("post", {}),)),
    "canned_fill": Case(
        canned_in_conversation, (("get", None),), also=(personal_canned_in_conversation,)
    ),
    "contact": Case(contact_id, (("get", None), ("post", {"name": "x", "opted_out": "on"}))),
    "contact_chat": Case(contact_id, (("get", None),)),
    "contact_consent_history": Case(contact_with_ledger, (("get", None), ("get", {"page": "1"}))),
    "contact_merge_find": Case(contact_id, (("get", None), ("get", {"q": "Zeb"}))),
    "contact_merge": Case(
        lambda v: {"contact_id": v.contact.pk, "other_id": v.contact.pk},
        (("get", None), ("post", {"keep_email": "other"})),
    ),
    "contact_chat_start": Case(contact_id, (("post", {"body": "hi", "from_id": "1"}),)),
    "contact_import": Case(import_id, IMPORT_REQUESTS),
    "contact_import_progress": Case(import_id, (("get", None),)),
    "contact_import_errors": Case(import_id, (("get", None),)),
    "contact_export": Case(export_id, (("get", None),)),
    "contact_export_progress": Case(export_id, (("get", None),)),
    "contact_export_download": Case(export_id, (("get", None),)),
    # Settings
    "settings_user_update": Case(membership_id, (("post", {"role": "limited"}), ("get", None))),
    "settings_user_deactivate": Case(membership_id),
    "settings_user_reactivate": Case(membership_id),
    "settings_invitation_cancel": Case(lambda v: {"invitation_id": v.invitation.pk}),
    "settings_team_update": Case(team_id, (("post", {"name": "Taken over"}), ("get", None))),
    "settings_team_delete": Case(team_id),
    "settings_group_edit": Case(group_id, (("post", {"name": "Taken"}), ("post", {"delete": "1"}))),
    "settings_field_edit": Case(field_id, (("post", {"name": "Taken"}), ("post", {"delete": "1"}))),
    "settings_canned_edit": Case(canned_id, CANNED_EDITS, also=(personal_canned_id,)),
    "settings_drip_campaign_edit": Case(drip_campaign_id, (("post", DRIP_EDIT),)),
    "settings_drip_campaign_delete": Case(drip_campaign_id, (("post", {}),)),
    "settings_number_edit": Case(number_id, (("get", None), ("post", {"label": "Mine now"}))),
    "settings_number_release": Case(number_id),
    "settings_number_verification": Case(
        number_id, (("post", {"status": "verified", "reason": ""}), ("get", None))
    ),
    "settings_api_key_revoke": Case(lambda v: {"key_id": v.key.pk}),
    "settings_keyword_delete": Case(keyword_id),
    "settings_keyword_rule_delete": Case(keyword_rule_id),
    "settings_webhook": Case(
        endpoint_id, (("get", None), ("post", {"url": "https://example.com/x"}))
    ),
    "settings_webhook_log": Case(endpoint_id, (("get", None),)),
    "settings_webhook_rotate": Case(endpoint_id),
    "settings_webhook_enable": Case(endpoint_id, (("post", {"enabled": "0"}),)),
    "settings_webhook_test": Case(endpoint_id),
    "settings_webhook_delete": Case(endpoint_id),
    "settings_webhook_resend": Case(delivery_ids),
    # A member's view of a picture; a carrier's signed link is the other route, and a token
    # that is not a valid signature of the victim's picture gets nothing.
    "media_file": Case(media_id, (("get", None),)),
    "media_public": Case(lambda v: {"token": f"{victim_picture(v).uid}:forged"}, (("get", None),)),
    "simulator:media": Case(phone_media, (("get", None),), echoes=HANDSET),
    "settings_carrier_account_edit": Case(
        lambda v: {"account_id": carrier_account(v).pk},
        (("get", None), ("post", {"name": "Mine now", "auth_token": "0" * 32})),
    ),
    "settings_carrier_account_delete": Case(lambda v: {"account_id": carrier_account(v).pk}),
    # Its argument is a carrier's slug: the outsider adds to their own organization, if anything.
    "settings_carrier_account_add": Case(
        lambda v: {"carrier": "twilio"},
        (("get", None), ("post", {})),
        refused=frozenset({200, 422}),
    ),
    # The invitation link's token is the credential itself: whoever holds it may accept. What
    # must hold is that a token one does not have shows nothing.
    "invitation_accept": Case(
        lambda v: {"token": "not-" + v.invitation.token},
        (("get", None), ("post", {"name": "x", "password": "p", "password_again": "p"})),
        refused=frozenset({404}),
    ),
    # The simulated phones: a handset is the simulated network's, not an organization's; the
    # page shows a member only the traffic with their own organization's numbers, so the
    # outsider sees the handset without the victim's texts (200). The victim texted it, so the
    # outsider may not play it: not text the victim's own number (400, not one of theirs), nor
    # the shared system number, whose replies reach the victim's conversation (403), nor change
    # how the victim's client's phone behaves (403). The same for the phone of a client the
    # victim's text from the system number is still queued for: it claims the phone already.
    "simulator:phone": Case(
        lambda v: {"number": SECRETS["contact_number"]},
        (("get", None),),
        refused=frozenset({200}),
        echoes=HANDSET,
        also=(queued_handset,),
    ),
    "simulator:screen": Case(
        lambda v: {"number": SECRETS["contact_number"]},
        (("get", None),),
        refused=frozenset({200}),
        echoes=HANDSET,
        also=(queued_handset,),
    ),
    "simulator:send": Case(
        lambda v: {"number": SECRETS["contact_number"]},
        (
            ("post", {"to": "+14155550170", "body": "hi"}),
            ("post", {"to": SYSTEM_NUMBER, "body": "STOP"}),
            ("post", {"to": SYSTEM_NUMBER, "body": "Cancel my appointment"}),
            ("post", {"to": OUTSIDER_NUMBER, "body": "hi"}),
        ),
        refused=frozenset({400, 403}),
        echoes=HANDSET,
        also=(queued_handset,),
    ),
    "simulator:behaviour": Case(
        lambda v: {"number": SECRETS["contact_number"]},
        (("post", {"behaviour": "landline"}), ("post", {"behaviour": "unreachable"})),
        refused=frozenset({403}),
        echoes=HANDSET,
        also=(queued_handset,),
    ),
    # Carrier webhooks take the carrier's slug, not a row; unsigned requests are refused.
    "carrier_webhook": Case(
        lambda v: {"carrier": "twilio"}, (("post", {}),), refused=frozenset({403})
    ),
    # A carrier account's webhook: its key in the URL, its token for the signature.
    "carrier_account_webhook": Case(
        lambda v: {"carrier": "twilio", "account": carrier_account(v).webhook_key},
        (("post", {}),),
        refused=frozenset({403}),
    ),
    # API (keyed by route: ninja names its URLs after the view functions)
    "api/v1/messages/<uid>": Case(
        scheduled_text, (("get", None), ("patch", SCHEDULED_CHANGE)), api=True
    ),
    "api/v1/messages/<uid>/cancel": Case(scheduled_text, (("post", {}),), api=True),
    "api/v1/conversations/<conversation_id>": Case(
        conversation_id, (("get", None), ("delete", None)), api=True
    ),
    "api/v1/conversations/<conversation_id>/messages": Case(
        conversation_id, (("get", None),), api=True
    ),
    "api/v1/conversations/<conversation_id>/notes": Case(
        conversation_id, (("post", {"body": "hi"}),), api=True
    ),
    **{
        f"api/v1/conversations/<conversation_id>/{action}": Case(
            conversation_id, (("post", None),), api=True
        )
        for action in ("archive", "unarchive", "unread", "mute", "unmute")
    },
    "api/v1/conversations/<conversation_id>/assignee": Case(
        conversation_id, (("post", {}), ("post", {"user_id": 1})), api=True
    ),
    "api/v1/conversations/<conversation_id>/drips": Case(
        conversation_id, (("post", {"campaign_id": 1}),), api=True
    ),
    "api/v1/conversations/<conversation_id>/drips/<applied_id>/cancel": Case(
        applied_drip, (("post", None),), api=True
    ),
    "api/v1/conversations/<conversation_id>/export": Case(
        conversation_id, (("get", EXPORT),), api=True
    ),
    "api/v1/contacts/<contact_id>": Case(
        contact_id, (("get", None), ("patch", {"name": "x", "opted_out": True})), api=True
    ),
    "api/v1/contacts/<contact_id>/merge": Case(contact_id, (("post", {"merge": 1}),), api=True),
    "api/v1/canned-responses/<canned_id>": Case(
        canned_id,
        (("get", None), ("patch", {"name": "Taken", "body": "x"}), ("delete", None)),
        api=True,
        also=(personal_canned_id,),
    ),
    "api/v1/webhooks/<endpoint_id>": Case(
        endpoint_id,
        (("get", None), ("patch", {"enabled": False}), ("delete", None)),
        api=True,
    ),
    "api/v1/webhooks/<endpoint_id>/rotate-secret": Case(endpoint_id, (("post", {}),), api=True),
    # With the victim's conversation, and with none (the outsider's answer is the same 404).
    "api/v1/canned-responses/<canned_id>/rendered": Case(
        canned_id,
        (
            ("get", lambda v: {"conversation_id": v.conversation.pk}),
            ("get", {"conversation_id": 1}),
        ),
        api=True,
        also=(personal_canned_id,),
    ),
}

# Django's admin is the operator's (the installation's first admin); an organization's admin is
# not staff and is sent to the admin's login page for every admin URL.
ADMIN_PREFIX = "admin/"
_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>|\(\?P<(?P<rname>\w+)>")


def _walk(
    patterns: list[Any], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str | None]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield prefix + str(pattern.pattern), name


def urls_with_ids() -> dict[str, str]:
    """Every route taking a parameter, keyed as in TABLE (name, or route for the API)."""
    found: dict[str, str] = {}
    for route, name in _walk(get_resolver().url_patterns):
        if not _PARAM.search(route) or route.startswith(ADMIN_PREFIX):
            continue
        key = route if route.startswith("api/") else (name or route)
        found[key] = route
    return found


def test_every_url_with_an_id_is_in_the_table() -> None:
    found = set(urls_with_ids())
    assert found - set(TABLE) == set(), "URLs that take an id with no entry in TABLE"
    assert set(TABLE) - found == set(), "entries in TABLE for URLs that no longer exist"


def _path(route: str, kwargs: dict[str, Any]) -> str:
    def fill(match: re.Match[str]) -> str:
        return str(kwargs[match.group("name") or match.group("rname")])

    return "/" + _PARAM.sub(fill, route)


def _leaks(content: bytes, victim: Victim, echoes: frozenset[str] = frozenset()) -> list[str]:
    text = content.decode(errors="replace")
    secrets = [value for name, value in SECRETS.items() if name not in echoes]
    values = [*secrets, victim.key_prefix, victim.invitation.token]
    return [value for value in values if value and value in text]


@pytest.mark.parametrize("key", sorted(TABLE))
def test_another_organizations_admin_gets_nothing(
    victim: Victim, outsider: Membership, key: str
) -> None:
    case = TABLE[key]
    route = urls_with_ids()[key]
    urls = [_path(route, kwargs(victim)) for kwargs in (case.kwargs, *case.also)]
    if case.api:
        _, raw = ApiKey.issue(owner=outsider, name="outsider")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    else:
        client = logged_in(outsider)
    before = snapshot(victim.org)
    for url, (method, given) in ((u, r) for u in urls for r in case.requests):
        data = given(victim) if callable(given) else given
        if case.api and method != "get":
            response = getattr(client, method)(url, data or {}, content_type="application/json")
        else:
            response = getattr(client, method)(url, data or {})
        assert response.status_code in case.refused, (method, url, response.status_code)
        assert _leaks(response.content, victim, case.echoes) == [], (method, url)
        for header in ("Location", "Content-Disposition"):
            leaked = _leaks(response.get(header, "").encode(), victim, case.echoes)
            assert leaked == [], (method, url)
    assert snapshot(victim.org) == before, urls


def test_the_django_admin_is_closed_to_organization_admins(
    victim: Victim, outsider: Membership
) -> None:
    client = logged_in(outsider)
    admin_routes = [
        route
        for route, _ in _walk(get_resolver().url_patterns)
        if route.startswith(ADMIN_PREFIX) and _PARAM.search(route)
    ]
    assert admin_routes
    ids = {"object_id": victim.conversation.pk, "app_label": "conversations", "url": "x"}
    for route in admin_routes:
        kwargs = {
            m.group("name") or m.group("rname"): ids.get(
                m.group("name") or m.group("rname"), victim.conversation.pk
            )
            for m in _PARAM.finditer(route)
        }
        url = _path(route, kwargs)
        response = client.get(url)
        assert response.status_code in (302, 404), (url, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith("/admin/login/"), url
        assert _leaks(response.content, victim) == [], url


def test_api_ids_of_another_organization_are_not_found(
    victim: Victim, outsider: Membership
) -> None:
    """The same answer as for an id that exists nowhere: the outsider learns nothing."""
    _, raw = ApiKey.issue(owner=outsider, name="outsider")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    theirs = client.get(f"/api/v1/conversations/{victim.conversation.pk}")
    nowhere = client.get("/api/v1/conversations/999999")
    assert theirs.status_code == nowhere.status_code == 404
    assert theirs.json() == nowhere.json()
    assert (
        client.get(f"/api/v1/messages/{uuid.uuid4()}").json()
        == client.get(f"/api/v1/messages/{victim.message.uid}").json()
    )
    listed = client.get("/api/v1/conversations").json()["items"]
    assert victim.conversation.pk not in {c["id"] for c in listed}
    contacts = client.get("/api/v1/contacts").json()["items"]
    assert victim.contact.pk not in {c["id"] for c in contacts}


def test_the_consent_ledger_shows_no_other_organizations_entries(
    victim: Victim, outsider: Membership
) -> None:
    """The ledger page, its export and the API take no id in their URLs, so the table cannot
    reach them: the outsider's own ledger, searched for the victim's contact, has none of it."""
    entry = victim_ledger_entry(victim)
    _, raw = ApiKey.issue(owner=outsider, name="outsider")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client = logged_in(outsider)
    before = snapshot(victim.org)
    for query in ("", "?contact=Zebediah", "?contact=4155550177", "?kind=opt_out&source=keyword"):
        for url in ("/settings/consent-ledger/", "/settings/consent-ledger/export.csv"):
            response = client.get(url + query)
            assert response.status_code == 200, url
            content = (
                b"".join(response.streaming_content) if response.streaming else response.content
            )
            assert _leaks(content, victim) == [], url + query
            assert f'data-consent-entry="{entry.pk}"' not in content.decode()
        listed = api.get("/api/v1/consent" + query)
        assert listed.status_code == 200 and listed.json()["items"] == []
    by_id = api.get(f"/api/v1/consent?contact_id={victim.contact.pk}")
    assert by_id.status_code == 404 and _leaks(by_id.content, victim) == []
    # A control: the victim's own administrator sees the entry.
    own = logged_in(victim.admin).get("/settings/consent-ledger/").content.decode()
    assert SECRETS["message_body"] in own
    assert snapshot(victim.org) == before


def test_the_leak_check_sees_the_victims_data_when_it_is_shown(victim: Victim) -> None:
    """A control: the victim's own admin gets the pages, so an empty leak list means something."""
    client = logged_in(victim.admin)
    page = client.get(f"/inbox/c/{victim.conversation.pk}/")
    assert page.status_code == 200
    assert {"contact_name", "message_body", "note_body"} <= {
        name for name, value in SECRETS.items() if value in page.content.decode()
    }
    assert SECRETS["team_name"] in client.get("/settings/teams/").content.decode()


def test_the_simulated_carrier_console_takes_no_other_organizations_number(
    victim: Victim, outsider: Membership
) -> None:
    """The console takes a number's id in its form, not its URL: the table cannot reach it."""
    client = logged_in(outsider)
    before = snapshot(victim.org)
    page = client.get("/simulator/carrier/")
    assert page.status_code == 200
    assert _leaks(page.content, victim) == []
    assert "(415) 555-0170" not in page.content.decode()
    control = logged_in(victim.admin).get("/simulator/carrier/").content.decode()
    assert "(415) 555-0170" in control
    response = client.post(
        "/simulator/carrier/", {"number_id": victim.number.pk, "status": "rejected", "reason": "x"}
    )
    assert response.status_code == 404
    assert _leaks(response.content, victim) == []
    assert snapshot(victim.org) == before


def test_the_simulated_carrier_console_is_for_administrators(victim: Victim) -> None:
    client = logged_in(victim.member)
    assert client.get("/simulator/carrier/").status_code == 403
    response = client.post("/simulator/carrier/", {"number_id": victim.number.pk, "status": "x"})
    assert response.status_code == 403
    assert not CarrierEvent.objects.exists()
