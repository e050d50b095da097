"""Auto-tuning: time every config of a spec's config space on example inputs and keep the fastest.

    result = robocache.tune(spec, (data, src_times, tgt_times))
    print(result.table())
    robocache.compile(spec).config == result.best     # compile() uses the stored best from now on

The score of a config is the sum over the example shapes of its median time per call (a sum, not a
geometric mean, so the shapes that cost the most time weigh the most). Configs whose score is
within the noise of the best — max(2 %, the relative spread of either measurement) — are tied, and
the tie goes to the one listed first in the config space. The heuristic config is listed first, so
tuning keeps it unless another config is measurably faster. See docs/tuning.md.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from ._kernel import Kernel, SpecLike, _spec_json, compile
from ._native import _robocache as _native

#: Smallest relative difference that counts as faster: timings of one config vary by about this much.
MIN_NOISE = 0.03
#: GPU cycles (~50 us on an H100) the timer keeps the device busy before each timed call.
_SPIN_CYCLES = 100_000
#: Seconds of timing one tune() spends when `repeats` is not given (compiling comes on top).
TIME_BUDGET_S = 3.0
#: Bounds on the adaptive number of timed calls per (config, shape).
MIN_REPEATS, MAX_REPEATS = 5, 200


@dataclass
class TuneRow:
    """One config's outcome: its score (µs, summed over shapes), relative spread, and standing."""

    config: dict
    time_us: float
    spread: float
    vs_heuristic: float  # heuristic time / this time: > 1 is faster than the heuristic
    tied: bool = False   # within the noise of the fastest
    best: bool = False
    error: str = ""      # why it could not be compiled or run (then time_us is inf)


@dataclass
class TuneResult:
    """What tune() measured and chose. `best` is the config compile() now uses for the spec."""

    spec: dict
    target: str
    best: dict
    rows: list[TuneRow]
    heuristic_us: float
    shapes: list = field(default_factory=list)
    saved: bool = False

    @property
    def best_us(self) -> float:
        return next(r.time_us for r in self.rows if r.best)

    def table(self) -> str:
        """An aligned text table: the fields that differ between configs, time, speed vs heuristic."""
        keys = [k for k in self.rows[0].config if len({json.dumps(r.config.get(k)) for r in self.rows}) > 1]
        keys = keys or list(self.rows[0].config)
        names = [" ".join(f"{k}={r.config.get(k)}" for k in keys) for r in self.rows]
        width = max(len("config"), *(len(n) for n in names))
        lines = [f"{'config':<{width}}  {'time µs':>10}  {'vs heuristic':>12}"]
        for i, (name, r) in enumerate(zip(names, self.rows)):
            mark = " ".join(m for m in ("best" if r.best else "tied" if r.tied else "",
                                        "(heuristic)" if i == 0 else "") if m)
            if r.error:
                lines.append(f"{name:<{width}}  {'-':>10}  {'-':>12}  failed: {r.error}")
            else:
                lines.append(f"{name:<{width}}  {r.time_us:>10.1f}  {r.vs_heuristic:>11.2f}x  {mark}".rstrip())
        return "\n".join(lines)


def choose(scores: Sequence[float], spreads: Sequence[float], min_noise: float = MIN_NOISE) -> tuple[int, list[bool]]:
    """The index of the chosen config and which configs are tied with the fastest.

    A config is tied when its score is within max(min_noise, its relative spread, the fastest's)
    of the fastest score; the chosen one is the first tied config, so order breaks ties.
    """
    fastest = min(range(len(scores)), key=lambda i: scores[i])
    tied = [s <= scores[fastest] * (1 + max(min_noise, spreads[fastest], sp)) for s, sp in zip(scores, spreads)]
    return tied.index(True), tied


def tune(spec: SpecLike, example_args, target: str = "auto", *, configs: Sequence[Mapping[str, Any]] | None = None,
         repeats: int | None = None, save: bool = True, progress: bool = True,
         _timer: Callable | None = None) -> TuneResult:
    """Times each config of `spec`'s config space on `example_args` and stores the fastest.

    example_args: the positional arguments of one kernel call, as a tuple — e.g.
        (data, src_times, tgt_times) — or a list of such tuples to tune over several shapes.
        numpy arrays tune the CPU backend; torch CUDA tensors the GPU (CUDA events, L2 flushed
        before every call).
    target: as for compile(); it must be where the arrays live.
    configs: the configs to try (dicts); default: the backend's config space, heuristic first.
        The first config is the reference that ties go to and "vs heuristic" compares against.
    repeats: timed calls per config and shape; default: as many as fit the time budget (5..100).
    save: store the result in the tuning database so compile() uses it (docs/tuning.md).
    progress: a progress bar on stderr.
    _timer: test hook, `_timer(kernel, args, repeats, budget_s) -> [µs per call, ...]`.
    """
    spec_json = _native.canonical_spec(_spec_json(spec))
    shapes = _as_shape_list(example_args)
    if configs is None:
        candidates = [json.loads(c) for c in _native.config_space(spec_json, target)]
    else:
        candidates = [dict(c) for c in configs]
        if not candidates:
            raise ValueError("configs: expected at least one config")
    kernels, errors = _compile_all(spec_json, target, candidates)
    if errors[0]:
        raise errors[0]
    timer = _timer or (_cpu_timer if kernels[0].target == "cpu" else _cuda_timer)
    budget = TIME_BUDGET_S / (len(candidates) * len(shapes))

    bar = _Progress(len(candidates), f"tune {kernels[0].target}", progress)
    scores, spreads = [float("inf")] * len(candidates), [0.0] * len(candidates)
    for i, kernel in enumerate(kernels):
        if kernel is not None:
            try:
                scores[i], spreads[i] = _measure(timer, kernel, shapes, repeats, budget)
            except Exception as e:  # noqa: BLE001 - a config that fails to run is reported, not fatal
                if i == 0:
                    raise
                errors[i] = e
        bar.step()
    bar.done()

    best, tied = choose(scores, spreads)
    heuristic_us = scores[0]
    full = [k.config if k is not None else c for k, c in zip(kernels, candidates)]
    rows = [TuneRow(config=c, time_us=s, spread=sp, vs_heuristic=heuristic_us / s if s else 1.0,
                    tied=t, best=i == best, error=str(e) if e else "")
            for i, (c, s, sp, t, e) in enumerate(zip(full, scores, spreads, tied, errors))]
    result = TuneResult(spec=json.loads(spec_json), target=kernels[0].target, best=kernels[best].config, rows=rows,
                        heuristic_us=heuristic_us, shapes=[_describe(a) for a in shapes])
    if save:
        _store(spec_json, target, result)
        result.saved = True
        # The high-level ops memoise compiled kernels per process; drop them so the next call
        # compiles again and picks up the stored best.
        from . import ops

        ops._KERNELS.clear()
        _native.forget_call_kernels()
    return result


def _as_shape_list(example_args) -> list[tuple]:
    if isinstance(example_args, list) and example_args and all(isinstance(a, tuple) for a in example_args):
        return example_args
    if isinstance(example_args, tuple) and example_args:
        return [example_args]
    raise TypeError("example_args: expected the kernel's positional arguments as a tuple, "
                    "or a list of such tuples (one per shape)")


def _compile_all(spec_json: str, target: str, configs: list[dict]):
    """Compiles every config at once: the native compile releases the GIL, so they overlap."""
    kernels: list[Kernel | None] = [None] * len(configs)
    errors: list[Exception | None] = [None] * len(configs)
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(len(configs), os.cpu_count() or 1)) as pool:
        futures = [pool.submit(compile, spec_json, target, c) for c in configs]
        for i, f in enumerate(futures):
            try:
                kernels[i] = f.result()
            except Exception as e:  # noqa: BLE001 - reported per config; the heuristic's is raised
                errors[i] = e
    return kernels, errors


def _measure(timer, kernel: Kernel, shapes: list[tuple], repeats, budget: float) -> tuple[float, float]:
    """(sum of per-shape medians in µs, summed interquartile ranges relative to that sum)."""
    total, spread = 0.0, 0.0
    for args in shapes:
        samples = sorted(timer(kernel, args, repeats, budget))
        total += statistics.median(samples)
        if len(samples) >= 2:
            q = statistics.quantiles(samples, n=4)
            spread += q[2] - q[0]
    return total, spread / total if total > 0 else 0.0


def _repeat_count(repeats, seconds_per_call: float, budget: float) -> int:
    if repeats is not None:
        return max(1, int(repeats))
    return max(MIN_REPEATS, min(MAX_REPEATS, int(budget / max(seconds_per_call, 1e-7))))


def _cpu_timer(kernel: Kernel, args: tuple, repeats, budget: float) -> list[float]:
    kernel(*args)  # loads the kernel and faults the output pages in
    t0 = time.perf_counter()
    kernel(*args)
    first = time.perf_counter() - t0
    samples = []
    for _ in range(_repeat_count(repeats, first, budget)):
        t0 = time.perf_counter()
        kernel(*args)
        samples.append((time.perf_counter() - t0) * 1e6)
    return samples


_FLUSH: dict = {}


def _l2_flush_buffer(torch, device):
    """A buffer of twice the L2 size: zeroing it evicts every line the previous call left in L2."""
    if device not in _FLUSH:
        l2 = torch.cuda.get_device_properties(device).L2_cache_size
        _FLUSH[device] = torch.empty(max(2 * l2, 1 << 20) // 4, dtype=torch.int32, device=device)
    return _FLUSH[device]


def _cuda_device(args):
    for a in args:
        if isinstance(a, (list, tuple)):
            d = _cuda_device(a)
            if d is not None:
                return d
        elif getattr(a, "is_cuda", False):
            return a.device
    return None


def _cuda_timer(kernel: Kernel, args: tuple, repeats, budget: float) -> list[float]:
    import torch

    device = _cuda_device(args)
    if device is None:
        raise TypeError(f"example_args: target {kernel.target} needs torch CUDA tensors")
    with torch.cuda.device(device):
        flush = _l2_flush_buffer(torch, device)
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        kernel(*args)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        flush.zero_()
        kernel(*args)
        torch.cuda.synchronize()
        first = time.perf_counter() - t0
        samples = []
        for _ in range(_repeat_count(repeats, first, budget)):
            flush.zero_()
            # Keep the GPU busy while the host prepares the call, so the events time the kernel
            # and not the Python call in front of it (small kernels are otherwise host-bound).
            torch.cuda._sleep(_SPIN_CYCLES)
            start.record()
            kernel(*args)
            end.record()
            end.synchronize()
            samples.append(start.elapsed_time(end) * 1000.0)
    return samples


def _describe(x):
    """Shapes of the arrays in one call's arguments (what the database records as 'shapes')."""
    if hasattr(x, "shape"):
        return list(x.shape)
    if isinstance(x, (list, tuple)):
        return [_describe(v) for v in x]
    return x if isinstance(x, (int, float, str)) or x is None else type(x).__name__


def _store(spec_json: str, target: str, result: TuneResult) -> None:
    key = _native.tuning_key(spec_json, target)
    timings = [{"config": r.config, "median_us": r.time_us} for r in result.rows if not r.error]
    entry = {**key, "best": result.best, "spec": spec_json, "shapes": result.shapes, "timings": timings,
             "heuristic_us": result.heuristic_us, "date": ""}
    _native.tuning_put(json.dumps(entry))


class _Progress:
    """`tune sm_90 [#####.....] 5/10 configs, ETA 2.1s` on stderr, redrawn in place on a terminal;
    elsewhere (a log file) one line at the end."""

    def __init__(self, total: int, label: str, enabled: bool):
        self.total, self.label, self.enabled = total, label, enabled
        self.live = enabled and sys.stderr.isatty()
        self.n, self.t0 = 0, time.perf_counter()
        self._draw()

    def step(self) -> None:
        self.n += 1
        self._draw()

    def done(self) -> None:
        if self.live:
            print(file=sys.stderr, flush=True)
        elif self.enabled:
            print(f"{self.label}: {self.total} configs in {time.perf_counter() - self.t0:.1f}s", file=sys.stderr)

    def _draw(self) -> None:
        if not self.live:
            return
        filled = 20 * self.n // max(self.total, 1)
        elapsed = time.perf_counter() - self.t0
        eta = f", ETA {elapsed / self.n * (self.total - self.n):.1f}s" if self.n else ""
        print(f"\r{self.label} [{'#' * filled}{'.' * (20 - filled)}] {self.n}/{self.total} configs{eta}  ",
              end="", file=sys.stderr, flush=True)


def tuning_entries() -> list[dict]:
    """Every entry of the tuning database (see docs/tuning.md for the fields)."""
    return json.loads(_native.tuning_db_json())["entries"]


def tuning_path() -> str:
    """The tuning database file: $ROBOCACHE_TUNING_DB, else tuning.json in the kernel cache directory."""
    return _native.tuning_path()


def export_tuning(path: str | os.PathLike) -> int:
    """Writes the tuning database to `path` (to ship with a deployment); returns the entry count."""
    return _native.tuning_export(os.fspath(path))


def import_tuning(path: str | os.PathLike) -> int:
    """Merges a tuning database file in; its entries replace same-key ones. Returns its entry count."""
    return _native.tuning_import(os.fspath(path))


def reload_tuning() -> None:
    """Re-reads the database file, to see entries another process stored since this one read it."""
    _native.tuning_reload()


def clear_tuning() -> int:
    """Removes every tuning entry; compile() goes back to the heuristic. Returns how many there were."""
    return _native.tuning_clear()
