"""Twoway's benchmark suite: `python -m bench [inbound|outbound|ceilings|all] --db ... --size ...`.

Each benchmark starts Twoway as it runs in production (`twoway web`, `twoway worker`) on a fresh
database, drives it from a separate load-generator process, checks the result in the database and
prints one JSON line per result. See docs/performance.md for what is measured and why.
"""
