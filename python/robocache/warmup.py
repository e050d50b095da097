"""Compile every spec of a manifest for every target ahead of a deployment."""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field

from ._native import _robocache as _native


@dataclass
class WarmupResult:
    """What warmup did for one target."""

    target: str
    compiled: int = 0
    cached: int = 0
    failed: list = field(default_factory=list)  # (spec, error text)

    @property
    def total(self) -> int:
        return self.compiled + self.cached + len(self.failed)


class Progress:
    """A one-line progress bar on a terminal; a line every 10% elsewhere (logs, CI)."""

    def __init__(self, total: int, stream=sys.stderr):
        self.total, self.done, self.stream = total, 0, stream
        self.tty = stream.isatty()
        self.next_report = 0.1
        self.start = time.perf_counter()

    def step(self, note: str) -> None:
        self.done += 1
        frac = self.done / self.total if self.total else 1.0
        elapsed = time.perf_counter() - self.start
        if self.tty:
            bar = "#" * int(frac * 30)
            self.stream.write(f"\r[{bar:<30}] {self.done}/{self.total} {elapsed:5.1f}s {note[:60]:<60}")
            if self.done == self.total:
                self.stream.write("\n")
        elif frac >= self.next_report or self.done == self.total:
            self.stream.write(f"warmup: {self.done}/{self.total} ({frac:.0%}) after {elapsed:.1f}s\n")
            while self.next_report <= frac:
                self.next_report += 0.1
        self.stream.flush()


def warmup(specs: list[dict], targets: list[str], jobs: int = 1, progress: bool = True) -> list[WarmupResult]:
    """Compiles each spec for each target through the cache (`jobs` at a time)."""
    results = {t: WarmupResult(t) for t in targets}
    work = [(s, t) for t in targets for s in specs]
    bar = Progress(len(work)) if progress else None

    def one(spec, target):
        return _native.compile(json.dumps(spec), target).origin

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(one, s, t): (s, t) for s, t in work}
        for fut in as_completed(futures):
            spec, target = futures[fut]
            r = results[target]
            try:
                origin = fut.result()
                if origin == "compiled":
                    r.compiled += 1
                else:
                    r.cached += 1
                note = f"{target} {spec.get('op')} {spec.get('dtype')} dim={spec.get('dim')}"
            except Exception as e:  # noqa: BLE001 - every failure is reported in the summary
                r.failed.append((spec, f"{type(e).__name__}: {e}"))
                note = f"FAILED {target}"
            if bar:
                bar.step(note)
    return [results[t] for t in targets]


def summary_table(results: list[WarmupResult], n_specs: int) -> str:
    """The coverage summary printed at the end of `robocache warmup`."""
    lines = [f"{'target':<10} {'specs':>6} {'compiled':>9} {'cached':>7} {'failed':>7} {'coverage':>9}"]
    for r in results:
        cover = (r.compiled + r.cached) / n_specs if n_specs else 1.0
        lines.append(f"{r.target:<10} {n_specs:>6} {r.compiled:>9} {r.cached:>7} {len(r.failed):>7} {cover:>8.0%}")
    for r in results:
        for spec, err in r.failed:
            lines.append(f"  {r.target}: {json.dumps(spec)}: {err.splitlines()[0]}")
    return "\n".join(lines)
