"""Which numbers a member may use, and who sees a number's conversations (the rules are listed in
`accounts.access`)."""

from __future__ import annotations

import contextlib

from django.db.models import Q, QuerySet

from twoway.accounts.models import Membership, Role, Team
from twoway.core.errors import NotFound
from twoway.core.phones import InvalidPhoneNumber, normalize_phone
from twoway.numbers.models import PhoneNumber


def numbers_usable_by(membership: Membership) -> QuerySet[PhoneNumber]:
    """Numbers the member may send from and whose inbox they see (the number's inbox settings):
    all of them for admins; for others those open to everyone or listing them or their team."""
    numbers = PhoneNumber.objects.filter(organization_id=membership.organization_id)
    if not membership.is_admin:
        allowed = (
            Q(access_everyone=True)
            | Q(access_users=membership)
            | Q(access_teams__members=membership)
        )
        numbers = numbers.filter(pk__in=PhoneNumber.objects.filter(allowed).values("pk"))
    return numbers.order_by("id")


def access_phone_number(membership: Membership, number: int | str) -> PhoneNumber:
    """A number the member may use, by id (an integer) or by the number itself, typed as
    E.164, nationally or as a short code (the API's `from`)."""
    numbers = numbers_usable_by(membership)
    if isinstance(number, int):
        found = numbers.filter(pk=number).first()
    else:
        candidates = {number.strip()}
        # A short code, or nothing we know, does not normalize: the lookup below decides.
        with contextlib.suppress(InvalidPhoneNumber):
            candidates.add(normalize_phone(number, membership.organization.country))
        found = numbers.filter(number__in=candidates).first()
    if found is None:
        raise NotFound("That phone number does not exist or is not yours to use.")
    return found


def members_who_see(number: PhoneNumber) -> QuerySet[Membership]:
    """Active members whose inbox shows the number's conversations: the reverse of
    `numbers_usable_by`."""
    if number.organization_id is None:  # the shared system number: nobody's inbox
        return Membership.objects.none()
    members = Membership.objects.filter(
        organization_id=number.organization_id, user__is_active=True
    )
    if not number.access_everyone:
        in_teams = Team.members.through.objects.filter(
            team_id__in=number.access_teams.values("pk")
        ).values("membership_id")
        members = members.filter(
            Q(role=Role.ADMINISTRATIVE)
            | Q(pk__in=number.access_users.values("pk"))
            | Q(pk__in=in_teams)
        )
    return members


def teams_who_see(number: PhoneNumber) -> QuerySet[Team]:
    """Teams the number is open to as a team: every team when it is open to everyone."""
    if number.organization_id is None:
        return Team.objects.none()
    teams = Team.objects.filter(organization_id=number.organization_id)
    if not number.access_everyone:
        teams = teams.filter(pk__in=number.access_teams.values("pk"))
    return teams
