"""The benchmarks. Each module has `run(ctx) -> list[Result]`; `REGISTRY` lists them in run order.

A new benchmark (the inbox one, once search exists) is one module here plus one REGISTRY line.
Ceilings run first, so the others can report each result as a fraction of its ceiling.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import Database, StackConfig, fresh_database


@dataclass
class Result:
    bench: str
    db: str
    size: str
    metric: str
    value: float | int | str | None
    unit: str
    ceiling_fraction: float | None = None
    ok: bool | None = None  # True/False for correctness checks, None for measurements
    case: str = ""  # the load or variant: "c=32", "500/s", "a: high limits"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if isinstance(self.value, float):
            data["value"] = round(self.value, 3)
        if self.ceiling_fraction is not None:
            data["ceiling_fraction"] = round(self.ceiling_fraction, 3)
        return data


@dataclass
class Options:
    web_processes: int = 1
    workers: int = 1
    worker_concurrency: int | None = None  # None: Twoway's default
    worker_processes: int | None = None  # per `twoway worker`; None: Twoway's default
    carrier_latency_ms: float = 0.0
    profile_dir: Path | None = None  # py-spy output, when profiling
    profile_gil: bool = False  # py-spy: CPU only (samples holding the GIL)
    soak_messages: int = 0  # inbound: raw events for the worker alone after the phases

    def stack_config(self, **overrides: Any) -> StackConfig:
        """The stack every benchmark runs on, as these options set it."""
        config = StackConfig(
            web_processes=self.web_processes,
            workers=self.workers,
            worker_concurrency=self.worker_concurrency,
            worker_processes=self.worker_processes,
            profile_dir=self.profile_dir,
            profile_gil=self.profile_gil,
        )
        for name, value in overrides.items():
            setattr(config, name, value)
        return config


@dataclass
class Context:
    db: str
    size: str
    workdir: Path
    pg_admin_url: str
    options: Options
    # Ceilings measured earlier in this run, for this database: name -> value.
    ceilings: dict[str, float] = field(default_factory=dict)
    results: list[Result] = field(default_factory=list)
    emit: Callable[[Result], None] = lambda result: None

    @contextlib.contextmanager
    def database(self, name: str) -> Iterator[Database]:
        with fresh_database(self.db, self.workdir / name, self.pg_admin_url) as db:
            yield db

    def record(
        self,
        bench: str,
        case: str,
        metric: str,
        value: float | int | str | None,
        unit: str,
        *,
        ceiling: str | None = None,
        inverse: bool = False,
        ok: bool | None = None,
    ) -> Result:
        """Record one result. `ceiling` names a ceiling: the fraction is value / ceiling, or
        ceiling / value with `inverse` (latencies, where the ceiling is the smaller number)."""
        fraction = None
        base = self.ceilings.get(ceiling) if ceiling else None
        if base and isinstance(value, int | float) and value > 0:
            fraction = base / value if inverse else value / base
        result = Result(bench, self.db, self.size, metric, value, unit, fraction, ok, case)
        self.results.append(result)
        self.emit(result)
        return result


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted values; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def registry() -> dict[str, Callable[[Context], None]]:
    from bench.scenarios import ceilings, contacts, inbound, inbox, outbound, send

    return {
        "ceilings": ceilings.run,
        "inbound": inbound.run,
        "outbound": outbound.run,
        "send": send.run,
        "inbox": inbox.run,
        "contacts": contacts.run,
    }
