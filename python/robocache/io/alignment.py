"""Alignment: episodes of recorded streams onto one timeline, as a padded batch with masks.

The layer above the kernels: clocks are repaired (clocks.py) and masks computed (masks.py) on the
exact int64 nanosecond clocks; the values are resampled by one `robocache.fuse_multimodal` call
per value dtype (every stream a modality) on the GPU with device="cuda". On the CPU, every stream
(linear, previous, nearest, wrapped and slerp) is resampled natively straight from the recorded
rows into the batch (python/bind_io_resample.cpp), with the bits the kernels give on the rows align
would pack for them (tests/python/test_io_native.py holds it to them).
Kernel times are float64 nanoseconds from the episode start: whole numbers, exact up to 104 days.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from .clocks import RepairedClock, repair
from ._parallel import pmap
from .masks import stream_mask
from .report import StreamReport, interval_stats, report_from_stats
from .streams import MODES, Episode

# the kernel's mode for each stream mode; wrapped angles are unwrapped, resampled linearly, wrapped
_KERNEL_MODE = {"linear": "linear", "slerp": "slerp", "previous": "previous", "nearest": "nearest",
                "wrapped": "linear"}
_MAX_MODALITIES = 16  # spec-reference.md: a fuse spec has 1 to 16 modalities
_DTYPES = {"f32": np.float32, "f64": np.float64, "float32": np.float32, "float64": np.float64}


@dataclass
class AlignedBatch:
    """Episodes aligned onto one timeline, padded to the longest.

    values [B, T, D] (numpy, or torch on the device asked for), mask [B, T, N] (bool, one column per
    stream: True where the stream's value can be trusted; False on padded targets), lengths [B]
    (targets per episode), times [B, T] (float64 seconds from each episode's start; 0 where padded),
    start_ns [B] (each episode's start, int64 ns on the episodes' clock)."""

    values: object
    mask: object
    lengths: np.ndarray
    times: np.ndarray
    start_ns: np.ndarray
    streams: List[str]
    channels: List[str]  # D names, "stream/channel"
    slices: Dict[str, slice]  # stream -> its channels in values
    modes: Dict[str, str]
    episodes: List[str]
    reports: List[StreamReport] = field(default_factory=list)
    timings_ms: Dict[str, float] = field(default_factory=dict)
    kernel_cache: Dict[str, int] = field(default_factory=dict)  # set by Collate: its compiles, disk and memory hits

    def stream(self, name: str):
        """The values [B, T, D_stream] of one stream."""
        return self.values[..., self.slices[name]]

    def stream_mask(self, name: str):
        """The mask [B, T] of one stream."""
        return self.mask[..., self.streams.index(name)]

    def __repr__(self) -> str:
        return (f"AlignedBatch(B={len(self.episodes)}, T={self.values.shape[1]}, D={self.values.shape[2]}, "
                f"streams={self.streams})")


def _per_stream(value, name: str, what: str):
    if isinstance(value, dict):
        return value.get(name, value.get("*"))
    return value


def _seconds_ns(value, what: str) -> Optional[int]:
    if value is None:
        return None
    if not value > 0:
        raise ValueError(f"argument '{what}': must be positive seconds, got {value!r}")
    return int(round(float(value) * 1e9))


@dataclass
class _Prepared:
    """One episode after clock repair and masking, ready to pack."""

    start_ns: int
    targets: np.ndarray  # int64 ns from start
    clocks: List[Optional[RepairedClock]]
    needed: List[np.ndarray]  # per stream: the repaired clock's samples the kernel reads
    valid: List[Optional[np.ndarray]]  # per stream: bool [T] (None: no sample, all masked)


def _rate_targets(reference, start: int, end: int) -> np.ndarray:
    """The targets of a rate reference in int64 ns on the episode's clock: every 1/rate from its
    first sample to its last."""
    rate = float(reference)
    if not rate > 0:
        raise ValueError(f"argument 'reference': a stream name or a positive rate in Hz, got {reference!r}")
    n = int(np.floor((end - start) * rate / 1e9 + 1e-9)) + 1
    return start + np.round(np.arange(n) * (1e9 / rate)).astype(np.int64)


def mode_key(mode: str) -> str:
    """Modes that read the same samples share masks: linear, slerp and wrapped read both neighbours."""
    return "both" if mode in ("linear", "slerp", "wrapped") else mode


def _check_strict(episode: str, name: str, c: RepairedClock, gap_ns) -> None:
    if c.repaired:
        raise ValueError(f"episode '{episode}', stream '{name}': {c.first_problem} (strict=True)")
    t = c.times_ns
    if gap_ns is not None and len(t) > 1:
        dt = np.diff(t)
        if (dt > gap_ns).any():
            j = int(np.argmax(dt > gap_ns))
            raise ValueError(f"episode '{episode}', stream '{name}': a gap of {dt[j] / 1e9:.6f} s after "
                             f"{int(c.times_ns[j])} ns is longer than max_gap {gap_ns / 1e9:.6f} s (strict=True)")


def _prepare(ep: Episode, names: Sequence[str], modes: Dict[str, str], reference, tolerance, max_gap,
             strict: bool, reports: List[StreamReport], cache: dict, with_needed: bool = True) -> _Prepared:
    """with_needed: list each stream's samples the kernel reads (`needed`), for packing."""
    # the streams of one topic share one clock: each clock is repaired once
    raw: Dict[int, np.ndarray] = {}
    for name in names:
        s = ep.streams.get(name)
        if s is not None and len(s):
            raw[id(s.times_ns)] = s.times_ns
    if isinstance(reference, str) and reference in ep.streams and len(ep.streams[reference]):
        t = ep.streams[reference].times_ns
        raw[id(t)] = t  # its repaired clock gives the targets
    if not raw:
        raise ValueError(f"episode '{ep.name}': none of the streams {list(names)} has a sample")
    if isinstance(reference, str) and reference not in ep.streams:
        raise ValueError(f"argument 'reference': episode '{ep.name}' has no stream '{reference}'; it has: "
                         f"{', '.join(ep.streams)}")
    # every clock repaired first, in parallel: a repaired clock starts and ends where the recorded
    # one's extremes are, which set the episode's start and a rate reference's targets
    todo = [i for i in raw if i not in cache]
    for i, c in zip(todo, pmap(repair, [raw[i] for i in todo], [len(raw[i]) for i in todo])):
        cache[i] = c
    start = min(int(cache[i].times_ns[0]) for i in raw)
    end = max(int(cache[i].times_ns[-1]) for i in raw)
    if isinstance(reference, str):
        t = ep.streams[reference].times_ns
        x = cache[id(t)].times_ns if len(t) else np.zeros(0, np.int64)
    else:
        x = _rate_targets(reference, start, end)
    prepared = _Prepared(start, x - start, [], [], [])
    T = len(x)

    def key_of(name):
        s = ep.streams[name]
        return (id(s.times_ns), mode_key(modes[name]), _per_stream(tolerance, name, "tolerance"),
                _per_stream(max_gap, name, "max_gap"))

    # per clock, in parallel: its masks and report for each set of samples the modes read (linear,
    # slerp and wrapped read the same)
    by_clock: Dict[int, Dict[tuple, str]] = {}
    for name in names:
        s = ep.streams.get(name)
        if s is not None and len(s) and key_of(name) not in cache:
            by_clock.setdefault(id(s.times_ns), {}).setdefault(key_of(name), name)

    def clock_task(clock_id):
        c = cache[clock_id]
        out = []
        for key, name in by_clock[clock_id].items():
            stats = interval_stats(c, key[3])
            gap_ns = stats[6] if stats[6] >= 0 else None
            if strict:
                _check_strict(ep.name, name, c, gap_ns)
            m = stream_mask(c.times_ns, x, modes[name], _seconds_ns(key[2], "tolerance"), gap_ns,
                            c.suspect if c.repaired else None, with_needed)
            masked = float(1.0 - np.count_nonzero(m.valid) / T) if T else float("nan")
            out.append((key, (m, masked, report_from_stats(ep.name, name, 0, c, start, stats))))
        return c, out

    ids = list(by_clock)
    for clock_id, (c, results) in zip(ids, pmap(clock_task, ids, [len(raw[i]) + T for i in ids])):
        for key, result in results:
            cache[key] = result
    clocks = {name: cache[id(ep.streams[name].times_ns)] for name in names
              if name in ep.streams and len(ep.streams[name])}

    for i, name in enumerate(names):
        recorded = len(ep.streams[name]) if name in ep.streams else 0
        if name not in clocks:
            prepared.clocks.append(None)
            prepared.needed.append(np.zeros(0, np.int64))
            prepared.valid.append(None)
            rep = StreamReport(ep.name, name, recorded, *([float("nan")] * 3), 0, float("nan"), 0, 0,
                               float("nan"), float("nan"))
            rep.targets, rep.masked, rep.masked_by = T, 1.0, {"outside": T}
            reports.append(rep)
            continue
        m, masked, base = cache[key_of(name)]
        prepared.valid.append(m.valid)
        prepared.clocks.append(clocks[name])
        prepared.needed.append(m.needed)
        rep = dataclasses.replace(base, stream=name, samples=recorded, source=ep.streams[name].source or name)
        rep.targets = T
        rep.masked = masked
        rep.masked_by = dict(m.counts)
        reports.append(rep)
    return prepared


def _pack(episodes, prepared: List[_Prepared], names, calls, modes, T: int):
    """For each kernel call (dtype, modalities): per modality (streams of one clock and mode, side
    by side) data [B, S, D], times [B, S] (float64 ns from the episode's start), lengths [B]; and
    the targets [B, T]. The rows are gathered (and wrapped angles unwrapped) by one native pass
    per stream (python/bind_io.cpp), the modalities of every call shared out over the threads."""
    from .._native import _robocache

    B = len(episodes)

    def pack(job):
        dtype, members = job
        if isinstance(members, _Zeros):
            return np.zeros((B, 1, members.width), dtype), np.zeros((B, 1), np.float64), np.ones(B, np.int64)
        widths = [next(ep.streams[names[i]].values.shape[1] for ep in episodes if names[i] in ep.streams)
                  for i in members]
        first = members[0]
        S = max(max(len(p.needed[first]) for p in prepared), 1)
        data = np.zeros((B, S, sum(widths)), dtype)
        times = np.zeros((B, S), np.float64)
        lengths = np.ones(B, np.int64)
        for b, (ep, p) in enumerate(zip(episodes, prepared)):
            sel = p.needed[first]
            if len(sel) == 0:
                continue  # no sample: one zero sample, and the mask says so
            c = p.clocks[first]
            index = c.index if c.repaired else None
            col = 0
            for i, w in zip(members, widths):
                _robocache.io_gather(ep.streams[names[i]].values, index, sel, data, b, col,
                                     modes[names[i]] == "wrapped")
                col += w
            _robocache.io_gather_times(c.times_ns, sel, p.start_ns, times, b)
            lengths[b] = len(sel)
        return data, times, lengths

    def work(job):
        members = job[1]
        if isinstance(members, _Zeros):
            return 0
        return sum(len(p.needed[members[0]]) for p in prepared) * len(members)

    jobs = [(dtype, m) for dtype, modalities in calls for m in modalities]
    packed = iter(pmap(pack, jobs, [work(j) for j in jobs]))
    tgt = np.zeros((B, T), np.float64)
    for b, p in enumerate(prepared):
        n = len(p.targets)
        tgt[b, :n] = p.targets
        tgt[b, n:] = p.targets[-1] if n else 0
    return [([next(packed) for _ in modalities], tgt) for _, modalities in calls]


@dataclass
class _Zeros:
    """A placeholder modality of the main kernel call: the columns of streams `first..last`, which
    another call (another dtype) resamples; one zero sample, so it costs the kernel nothing."""

    first: int
    last: int
    width: int


def _modalities(eps, names, idx: List[int], modes) -> List[List[int]]:
    """The streams `idx` as kernel modalities: neighbours with one kernel mode and, in every
    episode, one clock (a topic's fields) become one modality, which shares the times, the
    gathered rows and the kernel's search."""
    out: List[List[int]] = []
    key_of = lambda i: (_KERNEL_MODE[modes[names[i]]], modes[names[i]] == "slerp",  # noqa: E731
                        tuple(id(ep.streams[names[i]].times_ns) if names[i] in ep.streams else -1 for ep in eps))
    for i in idx:
        if out and out[-1][-1] == i - 1 and key_of(out[-1][-1]) == key_of(i) and modes[names[i]] != "slerp":
            out[-1].append(i)
        else:
            out.append([i])
    return out


# the modes bind_io_resample.cpp resamples on the CPU, and their codes there
_DIRECT_MODE = {"linear": 0, "previous": 1, "nearest": 2, "wrapped": 3, "slerp": 4}


def _resample_direct(eps, prepared: List[_Prepared], names, modes, direct: List[int], offsets, values) -> None:
    """values[b, :T_b, stream's columns] for the streams `direct` of every episode, by one
    native pass per episode over its targets that serves every clock (its streams side by side), a
    block of rows at a time; the targets of an episode are shared out over the threads when there
    are fewer episodes than threads. A stream an episode lacks gets zeros (masked), as the kernel's
    one zero sample gives."""
    from .._native import _robocache
    from ._parallel import thread_count

    per_episode = []
    for b, p in enumerate(prepared):
        by_clock: Dict[int, List[int]] = {}
        for i in direct:
            if p.clocks[i] is None:
                values[b, :, offsets[i]:offsets[i + 1]] = 0
            else:
                by_clock.setdefault(id(p.clocks[i]), []).append(i)
        args = []
        for members in by_clock.values():
            c = p.clocks[members[0]]
            args.append((c.times_ns, c.index if c.repaired else None,
                         [eps[b].streams[names[i]].values for i in members],
                         [_DIRECT_MODE[modes[names[i]]] for i in members], [int(offsets[i]) for i in members]))
        per_episode.append(args)
    parts = max(1, thread_count() // len(prepared))
    jobs = [(b, part) for b in range(len(prepared)) if per_episode[b] for part in range(parts)]

    def run(job):
        b, part = job
        _robocache.io_resample_into(per_episode[b], prepared[b].start_ns, prepared[b].targets, values, b, part, parts)

    pmap(run, jobs, [len(prepared[b].targets) * len(direct) // parts for b, _ in jobs])


def _wrap_into(src, src_col: int, w: int, dst, dst_col: int) -> None:
    """dst[..., dst_col:+w] = (src[..., src_col:+w] + pi) % (2 pi) - pi, numpy's % bit for bit, natively."""
    from .._native import _robocache

    _robocache.io_wrap_into(src, src_col, w, dst, dst_col)


def _run(packed, tgt, kernel_modes, device: str):
    import robocache

    if device == "cpu":
        # validate=False: align built these clocks sorted and the lengths in range itself
        return robocache.fuse_multimodal(packed, tgt, interp=kernel_modes, backend="cpu", validate=False)
    from ._gpu import fuse_on_gpu

    return fuse_on_gpu(packed, tgt, kernel_modes, device)


def _arguments(episodes, streams, modes, dtype, device):
    """align's arguments checked: (episodes, stream names, mode per stream, value dtype)."""
    eps = [episodes] if isinstance(episodes, Episode) else list(episodes)
    if not eps:
        raise ValueError("argument 'episodes': needs at least one episode")
    names = list(streams) if streams is not None else list(eps[0].streams)
    if not names:
        raise ValueError("argument 'streams': no stream to align")
    value_dtype = _DTYPES.get(str(np.dtype(dtype)) if not isinstance(dtype, str) else dtype)
    if value_dtype is None:
        raise ValueError(f"argument 'dtype': expected 'f32' or 'f64', got {dtype!r}")
    if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise ValueError(f"argument 'device': expected 'cpu' or 'cuda', got {device!r}")
    known = {n for ep in eps for n in ep.streams}
    for n in names:
        if n not in known:
            raise ValueError(f"argument 'streams': no episode has a stream '{n}'; the first has: "
                             f"{', '.join(eps[0].streams)}")
    resolved = {}
    for n in names:
        first = next(ep.streams[n] for ep in eps if n in ep.streams)
        mode = (modes or {}).get(n, first.mode)
        if mode not in MODES:
            raise ValueError(f"argument 'modes': stream '{n}': expected one of {', '.join(MODES)}, got {mode!r}")
        if mode == "slerp" and first.values.shape[1] != 4:
            raise ValueError(f"argument 'modes': stream '{n}': slerp needs 4 channels (x, y, z, w), "
                             f"it has {first.values.shape[1]}")
        resolved[n] = mode
    for n in (modes or {}):
        if n not in names:
            raise ValueError(f"argument 'modes': '{n}' is not one of the streams aligned ({', '.join(names)})")

    return eps, names, resolved, value_dtype


def report(episodes: Union[Episode, Sequence[Episode]], reference, *, streams: Optional[Sequence[str]] = None,
           modes: Optional[Dict[str, str]] = None, tolerance=None, max_gap="auto") -> List[StreamReport]:
    """The StreamReports align would give (clocks, gaps, masked shares), without resampling values:
    what `robocache audit` prints. Arguments as align's."""
    eps, names, resolved, _ = _arguments(episodes, streams, modes, "f32", "cpu")
    reports: List[StreamReport] = []
    cache: dict = {}
    for ep in eps:
        _prepare(ep, names, resolved, reference, tolerance, max_gap, False, reports, cache, with_needed=False)
    return reports


def align(episodes: Union[Episode, Sequence[Episode]], reference, *, streams: Optional[Sequence[str]] = None,
          modes: Optional[Dict[str, str]] = None, tolerance=None, max_gap="auto", dtype="f32",
          device: str = "cpu", strict: bool = False, episodes_per_call: Optional[int] = None,
          _kernels_as: Optional[str] = None) -> AlignedBatch:
    """Aligns episodes onto one timeline: `AlignedBatch` of values [B, T, D] and masks [B, T, N].

    reference: a stream name (its repaired clock gives the targets) or a rate in Hz (targets from
    the episode's first sample to its last). streams: which streams, in order (default: every
    stream of the first episode). modes: stream -> "linear", "slerp", "previous", "nearest" or
    "wrapped" (default: the stream's own mode). tolerance: seconds (or {stream: seconds}): a target
    with no sample that near is masked. max_gap: seconds, {stream: seconds}, "auto" (4 x the
    stream's median interval) or None: a target inside a longer gap is masked. dtype: "f32" or
    "f64" values (wrapped streams are resampled in f64 either way). device: "cpu" or "cuda" (torch
    tensors out). strict: raise on a repaired clock or a gap instead of masking.
    episodes_per_call: split the kernel calls over groups of episodes (GPU memory).
    _kernels_as: internal (robocache.ray.FleetKernels): run on the CPU but make the kernel calls
    the given device would make (every stream through the kernels), so the kernels used can be
    bundled for it.
    """
    t0 = time.perf_counter()
    eps, names, resolved, value_dtype = _arguments(episodes, streams, modes, dtype, device)
    cuda = device != "cpu"
    # on the CPU every stream is resampled natively, straight into the batch (bind_io_resample.cpp,
    # the kernels' bits); on the GPU the kernels do it, from the samples `needed` packed for them
    gpu_plan = cuda or (_kernels_as is not None and _kernels_as != "cpu")
    direct = [] if gpu_plan else [i for i, n in enumerate(names) if resolved[n] in _DIRECT_MODE]
    reports: List[StreamReport] = []
    cache: dict = {}
    prepared = [_prepare(ep, names, resolved, reference, tolerance, max_gap, strict, reports, cache,
                         with_needed=len(direct) < len(names)) for ep in eps]
    t1 = time.perf_counter()

    B, T = len(eps), max(len(p.targets) for p in prepared)
    widths = [next(ep.streams[n].values.shape[1] for ep in eps if n in ep.streams) for n in names]
    offsets = np.concatenate([[0], np.cumsum(widths)]).astype(int)
    D = int(offsets[-1])
    # one kernel call per value dtype: wrapped streams in f64, whose unwrapped angles keep precision
    groups: Dict[type, list] = {}
    for i, n in enumerate(names):
        if i in direct:
            continue
        dt = np.float64 if resolved[n] == "wrapped" else value_dtype
        groups.setdefault(dt, []).append(i)
    per_call = episodes_per_call or B
    # The call of the batch's dtype writes the batch itself where it can: the other dtype's
    # streams (the wrapped angles of an f32 batch) sit in it as zero-sample placeholders, whose
    # columns their own call overwrites. Otherwise every call's output is copied into the batch.
    main = None
    if per_call >= B and value_dtype in groups:
        in_main = set(groups[value_dtype])
        mods: list = _modalities(eps, names, groups[value_dtype], resolved)
        for i in range(len(names)):
            if i not in in_main:
                if mods and isinstance(mods[-1], _Zeros) and mods[-1].last == i - 1:
                    mods[-1].last, mods[-1].width = i, mods[-1].width + widths[i]
                else:
                    mods.append(_Zeros(i, i, widths[i]))
        mods.sort(key=lambda m: m.first if isinstance(m, _Zeros) else m[0])
        if len(mods) <= _MAX_MODALITIES:
            main = value_dtype
            groups[value_dtype] = [mods]
    # each other group as kernel calls of at most 16 modalities (the fuse kernel's limit)
    for dt, idx in groups.items():
        if dt is not main:
            mods = _modalities(eps, names, idx, resolved)
            groups[dt] = [mods[k:k + _MAX_MODALITIES] for k in range(0, len(mods), _MAX_MODALITIES)]
    values = None
    if main is None:
        if cuda:
            from ._gpu import empty_on

            values = empty_on(device, (B, T, D), value_dtype)
        else:
            values = np.empty((B, T, D), value_dtype)
    pack_s = kernel_s = 0.0
    for lo in range(0, B if groups else 0, per_call):
        chunk = list(range(lo, min(B, lo + per_call)))
        # the main call first: its output is the batch the others write into
        calls = [(dt, modalities) for dt, group in sorted(groups.items(), key=lambda g: g[0] is not main)
                 for modalities in group]
        ta = time.perf_counter()
        # every call's inputs packed at once, so the threads share out all the gathering
        packs = _pack([eps[b] for b in chunk], [prepared[b] for b in chunk], names, calls, resolved, T)
        tb = time.perf_counter()
        pack_s += tb - ta
        for (dt, modalities), (packed, tgt) in zip(calls, packs):
            tb = time.perf_counter()
            out = _run(packed, tgt, ["previous" if isinstance(m, _Zeros) else _KERNEL_MODE[resolved[names[m[0]]]]
                                     for m in modalities], device)
            if dt is main:
                values = out
            col = 0
            for m in modalities:
                if isinstance(m, _Zeros):
                    col += m.width
                    continue
                for i in m:
                    w = widths[i]
                    if resolved[names[i]] == "wrapped" and not cuda and B == len(chunk):
                        _wrap_into(out, col, w, values, int(offsets[i]))
                    elif resolved[names[i]] == "wrapped" or dt is not main:
                        part = out[..., col:col + w]
                        if resolved[names[i]] == "wrapped":
                            part = (part + np.pi) % (2 * np.pi) - np.pi
                        values[lo:lo + len(chunk), :, offsets[i]:offsets[i] + w] = part
                    col += w
            kernel_s += time.perf_counter() - tb
    tr = time.perf_counter()
    if direct:
        _resample_direct(eps, prepared, names, resolved, direct, offsets, values)
    resample_s = time.perf_counter() - tr
    lengths = np.array([len(p.targets) for p in prepared], np.int64)
    mask = np.zeros((B, T, len(names)), bool)
    times = np.zeros((B, T), np.float64)
    for b, p in enumerate(prepared):
        for i, v in enumerate(p.valid):
            if v is not None:
                mask[b, :lengths[b], i] = v
        times[b, :lengths[b]] = p.targets / 1e9
        values[b, lengths[b]:] = 0  # padded targets: zeros, masked
    if cuda:
        from ._gpu import to_device

        mask = to_device(mask, device)
    t2 = time.perf_counter()
    channels = [f"{n}/{c}" for n in names
                for c in next(ep.streams[n].channels for ep in eps if n in ep.streams)]
    return AlignedBatch(values, mask, lengths, times, np.array([p.start_ns for p in prepared], np.int64), names,
                        channels, {n: slice(int(offsets[i]), int(offsets[i + 1])) for i, n in enumerate(names)},
                        resolved, [ep.name for ep in eps], reports,
                        {"prepare": (t1 - t0) * 1e3, "pack": pack_s * 1e3, "kernel": kernel_s * 1e3,
                         "resample": resample_s * 1e3,
                         "total": (t2 - t0) * 1e3})
