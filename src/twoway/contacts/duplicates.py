"""The organization's possible duplicates: pairs of contacts with the same e-mail or the same
name, in any case (phones cannot be shared: a number is one contact's). Found set-based, by a
grouped query per kind over the (organization, lower(...)) indexes, never a query per contact,
and capped: merging the pairs shown brings the next ones up."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations, groupby

from django.db.models import Count, QuerySet
from django.db.models.functions import Lower

from twoway.accounts.models import Membership
from twoway.contacts.access import contacts_visible_to
from twoway.contacts.models import Contact

# Pairs shown at once: more is a data problem to clean up a page at a time.
PAIRS_SHOWN = 100
SAME_EMAIL = "e-mail"
SAME_NAME = "name"


@dataclass(frozen=True)
class DuplicatePair:
    """Two contacts that look like the same person, the older first, and what they share."""

    older: Contact
    newer: Contact
    same: tuple[str, ...]


@dataclass(frozen=True)
class DuplicatePairs:
    pairs: list[DuplicatePair]
    more: bool  # there are pairs past those shown


def _alike(contacts: QuerySet[Contact], attribute: str) -> list[tuple[str, list[Contact]]]:
    """Each value (lowered) that several contacts share, with them, oldest first; only as many
    contacts as give `PAIRS_SHOWN` pairs and one more, since each value gives at least one."""
    # Spelt as the (organization, lower(...)) indexes are, so they answer; lowered by the
    # database, as its LOWER folds case (SQLite's only ASCII).
    keyed = contacts.exclude(**{attribute: ""}).annotate(key=Lower(attribute))
    shared = keyed.values("key").annotate(count=Count("pk")).filter(count__gt=1).values("key")
    found = (
        keyed.filter(key__in=shared)
        .prefetch_related("phones")
        .order_by("key", "pk")[: 2 * PAIRS_SHOWN + 2]
    )
    return [(key, list(group)) for key, group in groupby(found, key=lambda c: c.key)]


def duplicate_pairs(membership: Membership) -> DuplicatePairs:
    """The first `PAIRS_SHOWN` pairs: those with the same e-mail by e-mail, then those with
    the same name by name; a pair that shares both is listed once, saying so."""
    contacts = contacts_visible_to(membership)
    same: dict[tuple[int, int], list[str]] = {}
    found: dict[tuple[int, int], tuple[Contact, Contact]] = {}
    for attribute, what in (("email", SAME_EMAIL), ("name", SAME_NAME)):
        for _, group in _alike(contacts, attribute):
            for older, newer in combinations(group, 2):
                ids = (older.pk, newer.pk)
                found.setdefault(ids, (older, newer))
                same.setdefault(ids, []).append(what)
    pairs = [DuplicatePair(*found[ids], same=tuple(same[ids])) for ids in found]
    return DuplicatePairs(pairs=pairs[:PAIRS_SHOWN], more=len(pairs) > PAIRS_SHOWN)
