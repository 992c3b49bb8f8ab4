"""PostgreSQL: whether a search's matches are few enough to read them all and sort them, rather
than walk an index in the table's order testing each contact (`lookup.py`).

Walking the order is fast when matches are spread along it: a page is found after a few hundred
contacts. But matches often sit together in that order: every "Rosa ..." is near the end of the
name order, and client IDs "C-0042..." were given to contacts made together, near the start of
the id order. PostgreSQL assumes matches are spread evenly, so it walks, and at 100,000 contacts
tests 90,000 of them (over 100 ms). Its estimate of how many contacts match is good (the trigram
index's statistics, `lookup_index.py`); asked for it first, the search reads a few thousand
matches from the trigram index and sorts them (a few ms a thousand), and walks only for terms
so common that their matches cannot be far apart. New conversation's suggestions need only a
few of the newest matches, and names are spread along the ids, so they walk unless the matches
are fewer still (a client ID's first characters).
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connection
from django.db.models import QuerySet

# Matches read and sorted take about 4 ms a thousand at most: up to this many, reading them all
# costs less than a walk may (the table's page of 50).
SORTED_MATCHES_MAX = 10_000
# The suggestions' 8 newest: a walk finds them among the first thousand contacts unless matches
# are rarer than this.
SORTED_SUGGESTIONS_MAX = 1_000


def matches_are_few(contacts: QuerySet[Any], most: int = SORTED_MATCHES_MAX) -> bool:
    """Whether PostgreSQL expects `contacts` (a search) to hold at most `most` rows.
    Elsewhere false: SQLite's planner, given the matching ids from the trigram tables as a
    list (`lookup_index.sqlite_text_matches`), chooses for itself."""
    if connection.vendor != "postgresql":
        return False
    sql, params = contacts.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return bool(plan[0]["Plan"]["Plan Rows"] <= most)
