"""Django's PostgreSQL backend; a pooled connection is checked when handed out, and one found
broken has every idle connection of the pool checked with it.

A database restart breaks every connection the pool holds at once, and nothing notices until
one is used. psycopg_pool's own check (what Django passes it with CONN_HEALTH_CHECKS) discards a
broken connection and then sleeps before it tries the next one, 1 s and doubling: with ten idle
connections that outlived a restart, the first request waited out the pool's whole timeout and
failed (docs/decisions.md). Here the first broken one has the pool check all its idle ones at
once (`ConnectionPool.check`, which replaces the broken ones), and the request takes a fresh
connection without waiting. Settings turn CONN_HEALTH_CHECKS off where a pool is used, so the
pool does not check a second time.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool

log = logging.getLogger(__name__)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: Any) -> Any:
        connection = super().get_new_connection(conn_params)
        pool: ConnectionPool[Any] | None = self.pool
        if pool is None:
            return connection
        # Every connection the pool held may be broken, and those it opens meanwhile are new:
        # after max_size broken ones the next is a new one (or the database is down, and
        # getting it fails after the pool's timeout).
        for _ in range(pool.max_size):
            try:
                ConnectionPool.check_connection(connection)
            except Exception:  # psycopg.Error and what a closed socket raises
                log.warning("A pooled database connection was broken: checking the others")
                pool.putconn(connection)  # broken: the pool closes it and opens a new one
                pool.check()  # the idle ones that broke with it, replaced now in one pass
                connection = super().get_new_connection(conn_params)
            else:
                return connection
        return connection
