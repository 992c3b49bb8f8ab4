"""Which numbers a member may use, and who sees a number's conversations (the rules are listed in
`accounts.access`)."""

from __future__ import annotations

import contextlib

from django.db.models import Manager, Q, QuerySet

from twoway.accounts.models import Membership, Role, Team
from twoway.core.errors import NotFound
from twoway.core.phones import InvalidPhoneNumber, normalize_phone
from twoway.numbers.models import PhoneNumber


def numbers_usable_by(membership: Membership) -> QuerySet[PhoneNumber]:
    """Numbers the member may send from and whose inbox they see (the number's inbox settings):
    all of them for admins; for others those open to everyone or listing them or their team."""
    return _open_to(membership, PhoneNumber.objects)


def numbers_seen_by(membership: Membership) -> QuerySet[PhoneNumber]:
    """The numbers whose conversations the member reads: those they may use, and the released
    ones that were open to them, whose history stays (read only: nothing leaves from them)."""
    return _open_to(membership, PhoneNumber.all_objects)


def _open_to(membership: Membership, manager: Manager[PhoneNumber]) -> QuerySet[PhoneNumber]:
    numbers = manager.filter(organization_id=membership.organization_id)
    if not membership.is_admin:
        allowed = (
            Q(access_everyone=True)
            | Q(access_users=membership)
            | Q(access_teams__members=membership)
        )
        numbers = numbers.filter(pk__in=manager.filter(allowed).values("pk"))
    return numbers.order_by("id")


def access_phone_number(membership: Membership, number: int | str) -> PhoneNumber:
    """A number the member may use, by id (an integer) or by the number itself, typed as
    E.164, nationally or as a short code (the API's `from`)."""
    numbers = numbers_usable_by(membership)
    if isinstance(number, int):
        found = numbers.filter(pk=number).first()
    else:
        found = numbers.filter(number__in=_spellings(number, membership)).first()
    if found is None:
        raise _not_yours()
    return found


class UsableNumbers:
    """`access_phone_number` for many sends of one member: their numbers read once."""

    def __init__(self, membership: Membership) -> None:
        self.membership = membership
        self._numbers = list(numbers_usable_by(membership))  # by id, as the query's first()
        # A batch names its few senders again and again: each spelling is normalized once.
        self._by_spelling: dict[str, PhoneNumber | None] = {}

    def get(self, number: int | str) -> PhoneNumber:
        if isinstance(number, int):
            found = next((n for n in self._numbers if n.pk == number), None)
        elif number in self._by_spelling:
            found = self._by_spelling[number]
        else:
            spellings = _spellings(number, self.membership)
            found = next((n for n in self._numbers if n.number in spellings), None)
            self._by_spelling[number] = found
        if found is None:
            raise _not_yours()
        return found


def _spellings(number: str, membership: Membership) -> set[str]:
    """The stored forms a typed number may have: as typed, and in E.164."""
    candidates = {number.strip()}
    # A short code, or nothing we know, does not normalize: the lookup decides.
    with contextlib.suppress(InvalidPhoneNumber):
        candidates.add(normalize_phone(number, membership.organization.country))
    return candidates


def _not_yours() -> NotFound:
    return NotFound("That phone number does not exist or is not yours to use.")


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
