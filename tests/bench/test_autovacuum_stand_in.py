"""The bench's stand-in for autovacuum picks the tables autovacuum itself would pick."""

from __future__ import annotations

from typing import Any

from bench.harness import AutovacuumStandIn


class _Rows:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def execute(self, sql: str) -> _Rows:
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows


def test_tables_past_autovacuums_default_thresholds_are_vacuumed_or_analysed() -> None:
    # (table, dead rows, rows changed since the last ANALYZE, rows in the table)
    rows = [
        ("empty_then_grown", 0, 51, 0),  # 50 + 10% of 0: analyse
        ("quiet", 0, 50, 0),
        ("big_few_changes", 100, 1_000, 100_000),  # under 50 + 10,000 and 50 + 20,000
        ("big_many_changes", 0, 10_051, 100_000),
        ("many_dead", 20_051, 0, 100_000),  # VACUUM, which analyses too
    ]

    due = AutovacuumStandIn._due(_Rows(rows))

    assert due == [
        ("ANALYZE", "empty_then_grown"),
        ("ANALYZE", "big_many_changes"),
        ("VACUUM (ANALYZE)", "many_dead"),
    ]
