"""Who may play a simulated phone: text from it, to any number, and change how it behaves.

The simulated network is shared by every organization of the installation, and so is its
system number: a text to the system number belongs to whichever organization last texted that
phone from it. So a phone may be played only by members of an organization that

- claimed it: its member played it first, or it texted it first (or nobody claimed it yet), and
- holds all of its traffic: every text the phone sent or received is with this organization's
  own numbers, or on the system number one this organization sent or received there, or one
  its members played; and no other organization has a text to it queued on the system number.

A brand-new phone can thus be tried by anyone, and the first to play or text it claims it.
Another organization may still text a claimed phone (the network delivers it, unaffected by
the phone's behaviour, which is the claiming organization's setting), but from then on its
traffic spans two organizations and nobody plays it. A number of Twoway's own (an
organization's or the system number) is a business's line, not a client's phone.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import Q

from twoway.accounts.models import Organization
from twoway.conversations.models import Direction, Message
from twoway.core.errors import InvalidInput, PermissionDenied
from twoway.media.services import CheckedMedia
from twoway.numbers.models import PhoneNumber
from twoway.simulator.models import HandsetBehaviour, SimHandset, SimMessage
from twoway.simulator.network import handset_lock, handset_send

NOT_A_HANDSET = (
    "This is a business number on Twoway, not a client's phone, so it cannot be played here."
)
CLAIMED_ELSEWHERE = (
    "Another organization on this Twoway installation texted this phone or used it here first, "
    "so only its members may text from it or change how it behaves. To try a simulated phone, "
    "open a number nobody has texted yet."
)
SHARED = (
    "This phone also texts with another organization on the shared simulated network, so no "
    "one may text from it or change how it behaves here: its texts could reach the other "
    "organization's conversations. To try a simulated phone, open a number nobody has texted "
    "yet."
)


def system_numbers() -> list[str]:
    return list(
        PhoneNumber.objects.filter(is_system=True, carrier="simulator")
        .order_by("pk")
        .values_list("number", flat=True)
    )


def handset_play_refusal(*, organization_id: int, handset: SimHandset) -> str | None:
    """Why members of the organization may not play the phone, or None when they may."""
    if PhoneNumber.objects.filter(number=handset.number).exists():
        return NOT_A_HANDSET
    if handset.claimed_by_id not in (None, organization_id):
        return CLAIMED_ELSEWHERE
    system = system_numbers()
    ours = Message.objects.filter(organization_id=organization_id)
    sent = ours.filter(
        direction=Direction.OUTBOUND, from_number__in=system, to_number=handset.number
    ).values_list("uid", flat=True)
    received = ours.filter(
        direction=Direction.INBOUND, to_number__in=system, from_number=handset.number
    ).values_list("carrier_message_id", flat=True)
    own = PhoneNumber.objects.filter(organization_id=organization_id).values_list(
        "number", flat=True
    )
    foreign = (
        SimMessage.objects.filter(handset_id=handset.pk)
        .exclude(played_by_id=organization_id)
        .exclude(business_number__in=list(own))
        .exclude(
            Q(business_number__in=system)
            & (
                Q(idempotency_key__in=[str(uid) for uid in sent])
                | Q(sid__in=[sid for sid in received if sid])
            )
        )
    )
    # A text another organization queued from the system number is not on the network yet,
    # but a reply to the system number would already be routed to it.
    queued_elsewhere = (
        Message.objects.filter(
            direction=Direction.OUTBOUND, from_number__in=system, to_number=handset.number
        )
        .exclude(organization_id=organization_id)
        .exists()
    )
    if queued_elsewhere or foreign.exists():
        return SHARED
    return None


def _play(organization: Organization, handset_number: str) -> SimHandset:
    """Lock the handset, refuse when the organization may not play it, else claim it."""
    handset = handset_lock(handset_number)
    refusal = handset_play_refusal(organization_id=organization.pk, handset=handset)
    if refusal:
        raise PermissionDenied(refusal)
    if handset.claimed_by_id is None:
        SimHandset.objects.filter(pk=handset.pk).update(claimed_by=organization)
        handset.claimed_by = organization
    return handset


@transaction.atomic
def handset_play_send(
    *,
    organization: Organization,
    handset_number: str,
    business_number: str,
    body: str,
    media: Sequence[CheckedMedia] = (),
) -> SimMessage:
    """A member texts `business_number` from the simulated phone (an MMS with `media`)."""
    _play(organization, handset_number)
    return handset_send(
        handset_number=handset_number,
        business_number=business_number,
        body=body,
        played_by_id=organization.pk,
        media=media,
    )


@transaction.atomic
def handset_behaviour_set(
    *, organization: Organization, handset_number: str, behaviour: str
) -> SimHandset:
    """A member makes the phone deliver normally, behave as a landline or be unreachable."""
    if behaviour not in HandsetBehaviour.values:
        raise InvalidInput("Unknown phone behaviour.")
    handset = _play(organization, handset_number)
    SimHandset.objects.filter(pk=handset.pk).update(behaviour=behaviour)
    handset.behaviour = behaviour
    return handset
