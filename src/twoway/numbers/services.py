"""Writes on phone numbers: buying them from a carrier, inbox settings, releasing them.

Every function that changes a number takes the acting admin (`actor`): a non-admin gets
PermissionDenied, a number of another organization NotFound.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from twoway.accounts.access import require_admin
from twoway.accounts.models import Membership, Organization, Team
from twoway.carrier_accounts.models import CarrierAccount
from twoway.carrier_accounts.selectors import carrier_webhook_url
from twoway.carriers.base import AvailableNumber, Carrier, CarrierError
from twoway.carriers.errors import EXPLANATIONS
from twoway.carriers.registry import UnknownCarrier, carrier_for_account, carrier_slugs, get_carrier
from twoway.core.errors import InvalidInput, NotFound, PermissionDenied, TwowayError
from twoway.core.phones import InvalidPhoneNumber, format_for_display, normalize_phone
from twoway.numbers.models import DEFAULT_MPS, NumberType, PhoneNumber, RoutingMode

# Area codes for simulated numbers, by country: a number that looks local to the business.
_SIMULATED_PREFIX = {"US": "+1415555", "CA": "+1416555"}

MAX_MPS = Decimal(1000)
LABEL_MAX_LENGTH = 100  # PhoneNumber.label's max_length
SEARCH_LIMIT = 20
# The most numbers asked of a carrier in one search, taken ones included.
_SEARCH_CEILING = 1000


class InvalidNumberField(InvalidInput):
    """One input is wrong; `field` names it so a form can show the message beside it."""

    def __init__(self, field: str, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code or f"invalid_{field}")
        self.field = field


class CarrierRefused(TwowayError):
    """The carrier could not list or provision numbers; the message says what it answered."""

    code = "carrier_error"
    status = 502


def number_assign_simulated(*, organization: Organization) -> PhoneNumber:
    """Give the organization a free number on the simulated network."""
    prefix = _SIMULATED_PREFIX.get(organization.country, "+1415555")
    taken = set(
        PhoneNumber.objects.filter(number__startswith=prefix).values_list("number", flat=True)
    )
    for suffix in range(100, 10000):
        candidate = f"{prefix}{suffix:04d}"
        if candidate not in taken:
            return PhoneNumber.objects.create(
                organization=organization,
                number=candidate,
                label="Main",
                number_type=NumberType.LOCAL,
                carrier="simulator",
                mps_limit=DEFAULT_MPS[NumberType.LOCAL],
            )
    raise RuntimeError("The simulated network has no free numbers left for this area.")


# The simulated network's shared system number: a toll-free number, like carriers' own.
SIMULATED_SYSTEM_NUMBER = "+18885550100"


def system_number_ensure_simulated() -> PhoneNumber:
    """The simulated network's system number, created the first time it is needed."""
    number, _ = PhoneNumber.objects.get_or_create(
        number=SIMULATED_SYSTEM_NUMBER,
        defaults={
            "organization": None,
            "is_system": True,
            "label": "System",
            "number_type": NumberType.TOLL_FREE,
            "carrier": "simulator",
            "mps_limit": DEFAULT_MPS[NumberType.TOLL_FREE],
        },
    )
    return number


# --- Helpers ---------------------------------------------------------------------------------


def _require_admin_of(actor: Membership, organization_id: int | None) -> None:
    """The actor is an active admin of that organization; other organizations look missing."""
    if not actor.user.is_active:
        raise PermissionDenied("Your account is deactivated.", code="inactive")
    require_admin(actor)
    if actor.organization_id != organization_id:
        raise NotFound("That phone number does not exist.")


def provisioning_carriers() -> list[Carrier]:
    """The configured carriers that sell numbers over their API, in settings order."""
    carriers = [get_carrier(slug) for slug in carrier_slugs()]
    return [carrier for carrier in carriers if carrier.can_provision_numbers]


def _provisioning_carrier(
    slug: str, organization: Organization, account: CarrierAccount | None = None
) -> Carrier:
    """The adapter that buys numbers of `slug`: the operator's, or that of the organization's
    carrier `account`."""
    if account is not None and (
        account.organization_id != organization.pk or account.carrier != slug
    ):
        raise InvalidNumberField("carrier", "That carrier account is not one of yours.")
    try:
        carrier = carrier_for_account(account.pk if account else None, slug)
    except UnknownCarrier:
        raise InvalidNumberField("carrier", f"There is no carrier called {slug!r}.") from None
    if not carrier.can_provision_numbers:
        raise InvalidNumberField(
            "carrier", f"{carrier.name} numbers cannot be bought from Twoway.", code="no_inventory"
        )
    return carrier


def _carrier_refused(carrier: Carrier, doing: str, exc: CarrierError) -> CarrierRefused:
    reason = EXPLANATIONS["config"] if exc.code == "config" else str(exc)
    if exc.transient:
        reason += " Try again in a moment."
    return CarrierRefused(f"{carrier.name} could not {doing}: {reason}")


def _clean_area_code(area_code: str | None) -> str | None:
    area = (area_code or "").strip()
    if not area:
        return None
    if not (len(area) == 3 and area.isdigit()):
        raise InvalidNumberField("area_code", "An area code is three digits, such as 415.")
    return area


def _clean_label(label: str) -> str:
    label = (label or "").strip()
    if len(label) > LABEL_MAX_LENGTH:
        raise InvalidNumberField("label", "Keep the label to 100 characters or fewer.")
    return label


def _clean_number_type(number_type: str) -> str:
    if number_type not in NumberType.values:
        raise InvalidNumberField(
            "number_type", "Pick a number type: local long code, toll-free or short code."
        )
    return number_type


def _clean_mps(mps_limit: Decimal | int | float | str) -> Decimal:
    try:
        mps = Decimal(str(mps_limit))
    except InvalidOperation:
        raise InvalidNumberField("mps_limit", "The throughput must be a number.") from None
    if not mps.is_finite() or mps <= 0 or mps > MAX_MPS:
        raise InvalidNumberField(
            "mps_limit",
            f"The throughput must be more than 0 and at most {MAX_MPS} messages per second.",
        )
    if mps != mps.quantize(Decimal("0.01")):
        raise InvalidNumberField(
            "mps_limit", "The throughput takes at most two decimals, such as 0.25."
        )
    return mps


def _taken_message(number: str) -> str:
    return f"{format_for_display(number)} is already in use in Twoway. Pick another number."


# --- Searching and adding --------------------------------------------------------------------


def number_search(
    *,
    organization: Organization,
    carrier: str,
    carrier_account: CarrierAccount | None = None,
    area_code: str | None = None,
    limit: int = SEARCH_LIMIT,
) -> list[AvailableNumber]:
    """Numbers `carrier` offers in the organization's country (and `area_code`), leaving out
    those some organization in Twoway already has; through the organization's
    `carrier_account` when given. Calls the carrier: no transaction held."""
    adapter = _provisioning_carrier(carrier, organization, carrier_account)
    area = _clean_area_code(area_code)
    # The simulator offers numbers Twoway may hold already (its network is our database), and
    # a carrier's list can lag behind: ask for enough to fill `limit` after leaving those out.
    held = PhoneNumber.objects.filter(carrier=carrier).count()
    try:
        offered = adapter.available_numbers(
            organization.country, area, min(limit + held, _SEARCH_CEILING)
        )
    except CarrierError as exc:
        raise _carrier_refused(adapter, "list available numbers", exc) from exc
    taken = set(
        PhoneNumber.objects.filter(number__in=[o.number for o in offered]).values_list(
            "number", flat=True
        )
    )
    return [offer for offer in offered if offer.number not in taken][:limit]


def number_add(
    *,
    actor: Membership,
    organization: Organization,
    carrier: str,
    number: str,
    carrier_account: CarrierAccount | None = None,
    label: str = "",
    number_type: str | None = None,
    mps_limit: Decimal | int | None = None,
) -> PhoneNumber:
    """Provision `number` through its carrier and add it to the organization, open to everyone,
    agent-backed. The type defaults to what the carrier says, the throughput to its type's.

    Not one transaction: the carrier call must not hold the database (SQLite's write lock
    would stop every sender meanwhile). The number is checked free before it is bought, and the
    unique constraint settles a race.
    """
    _require_admin_of(actor, organization.pk)
    adapter = _provisioning_carrier(carrier, organization, carrier_account)
    try:
        e164 = normalize_phone(number, organization.country)
    except InvalidPhoneNumber as exc:
        raise InvalidNumberField("number", str(exc)) from None
    label = _clean_label(label)
    if number_type is not None:
        _clean_number_type(number_type)
    mps = _clean_mps(mps_limit) if mps_limit is not None else None
    if PhoneNumber.objects.filter(number=e164).exists():
        raise InvalidNumberField("number", _taken_message(e164), code="number_taken")
    # Where the carrier posts the number's texts: its account's webhook, or the operator's.
    sms_url = carrier_webhook_url(carrier, carrier_account.pk if carrier_account else None)
    try:
        provisioned = adapter.provision_number(e164, sms_url=sms_url)
    except CarrierError as exc:
        raise _carrier_refused(adapter, f"provide {format_for_display(e164)}", exc) from exc
    kind = NumberType(number_type or provisioned.number_type)
    try:
        with transaction.atomic():
            return PhoneNumber.objects.create(
                organization=organization,
                number=provisioned.number,
                label=label,
                number_type=kind,
                carrier=carrier,
                carrier_account=carrier_account,
                sms_enabled=provisioned.sms,
                mms_enabled=provisioned.mms and adapter.supports_mms,
                mps_limit=mps if mps is not None else DEFAULT_MPS[kind],
            )
    except IntegrityError:
        raise InvalidNumberField(
            "number", _taken_message(provisioned.number), code="number_taken"
        ) from None


# --- Inbox settings --------------------------------------------------------------------------


def _same_organization(
    organization_id: int | None, users: Iterable[Membership], teams: Iterable[Team]
) -> tuple[list[Membership], list[Team]]:
    users, teams = list(users), list(teams)
    for user in users:
        if user.organization_id != organization_id:
            raise InvalidNumberField(
                "access_users",
                f"{user.user.email} is not a member of this organization.",
                code="foreign_user",
            )
    for team in teams:
        if team.organization_id != organization_id:
            raise InvalidNumberField(
                "access_teams",
                f"The team {team.name!r} is not one of this organization's teams.",
                code="foreign_team",
            )
    return users, teams


@transaction.atomic
def number_update(
    *,
    actor: Membership,
    number: PhoneNumber,
    label: str | None = None,
    number_type: str | None = None,
    sms_enabled: bool | None = None,
    mms_enabled: bool | None = None,
    mps_limit: Decimal | int | str | None = None,
    access_everyone: bool | None = None,
    access_users: Iterable[Membership] | None = None,
    access_teams: Iterable[Team] | None = None,
    routing_mode: str | None = None,
) -> PhoneNumber:
    """Change a number's details and inbox settings; arguments left None stay as they are.

    With `access_everyone` off only admins and the users and teams listed may use the number
    and see its conversations.
    """
    _require_admin_of(actor, number.organization_id)
    values: dict[str, object] = {}
    if label is not None:
        values["label"] = _clean_label(label)
    if number_type is not None:
        values["number_type"] = _clean_number_type(number_type)
    if sms_enabled is not None:
        values["sms_enabled"] = sms_enabled
    if mms_enabled is not None:
        if mms_enabled and not _carrier_supports_mms(number.carrier):
            raise InvalidNumberField(
                "mms_enabled",
                f"The {number.carrier} carrier cannot send MMS, so this number cannot either.",
            )
        values["mms_enabled"] = mms_enabled
    if mps_limit is not None:
        values["mps_limit"] = _clean_mps(mps_limit)
    if access_everyone is not None:
        values["access_everyone"] = access_everyone
    if routing_mode is not None:
        if routing_mode not in RoutingMode.values:
            raise InvalidNumberField(
                "routing_mode", "Pick agent-backed or virtual-assistant-backed routing."
            )
        values["routing_mode"] = routing_mode
    users, teams = _same_organization(
        number.organization_id, access_users or (), access_teams or ()
    )
    # Checked everything first, so a refusal leaves the caller's object as it was.
    for name, value in values.items():
        setattr(number, name, value)
    # Only the columns changed: a worker may be writing `next_send_at` at the same moment.
    if values:
        number.save(update_fields=list(values))
    if access_users is not None:
        number.access_users.set(users)
    if access_teams is not None:
        number.access_teams.set(teams)
    return number


def _carrier_supports_mms(slug: str) -> bool:
    try:
        return get_carrier(slug).supports_mms
    except UnknownCarrier:
        return False


# --- Releasing -------------------------------------------------------------------------------


@transaction.atomic
def number_release(*, actor: Membership, number: PhoneNumber) -> None:
    """Take an unused number out of Twoway. A number with conversations stays: deleting it
    would lose their history, so restrict who can use it instead. The carrier keeps billing a
    number bought there until it is released in the carrier's own console too."""
    _require_admin_of(actor, number.organization_id)
    in_use = (
        f"{number.display} has conversations, so it cannot be released: their history would be "
        "lost. Limit who can use it instead."
    )
    if number.is_dedicated:
        raise InvalidInput(
            f"{number.display} is your two-way texting number. Turn two-way texting off instead: "
            "the number is then kept for three months, and released after.",
            code="dedicated_number",
        )
    if number.conversations.exists():
        raise InvalidInput(in_use, code="number_in_use")
    try:
        number.delete()
    except ProtectedError:
        raise InvalidInput(in_use, code="number_in_use") from None
