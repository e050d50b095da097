"""The pandas way to do what `align` does, written as a good pandas user would: sort and
de-duplicate each stream's DataFrame, `merge_asof` the targets onto it (backward and forward
neighbours, for the masks, `previous` and `nearest`), `np.interp` per channel for `linear`
(unwrapped first for `wrapped`), and numpy slerp between the neighbours. float64 throughout.

It follows the same rules as align (docs/robot-logs.md), so the demo, bench/io_bench.py and the
tests can check one against the other; it shares no code with align."""

from __future__ import annotations

from typing import Dict, Sequence

import numpy as np

from ._deps import require


def _slerp(q0: np.ndarray, q1: np.ndarray, a: np.ndarray) -> np.ndarray:
    d = np.sum(q0 * q1, axis=1)
    q1 = np.where((d < 0)[:, None], -q1, q1)
    d = np.abs(d)
    theta = np.arccos(np.clip(d, -1.0, 1.0))
    small = theta < 1e-6
    s = np.where(small, 1.0, np.sin(theta))
    w0 = np.where(small, 1 - a, np.sin((1 - a) * theta) / s)
    w1 = np.where(small, a, np.sin(a * theta) / s)
    q = w0[:, None] * q0 + w1[:, None] * q1
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def pandas_align(episodes, reference, streams: Sequence[str], modes: Dict[str, str], tolerance=None,
                 max_gap="auto"):
    """(values [B, T, D] float64, mask [B, T, N] bool, lengths [B]) as align would give them."""
    pd = require("pandas", "the pandas baseline")
    outs, masks = [], []
    for ep in episodes:
        frames = {}
        for name in streams:
            s = ep.streams[name]
            df = pd.DataFrame(s.values, columns=[f"c{i}" for i in range(s.values.shape[1])])
            df.insert(0, "t", s.times_ns)
            df["late"] = df["t"] < df["t"].cummax().shift(1, fill_value=np.iinfo(np.int64).min)
            df = df.sort_values("t", kind="stable")
            df["dup"] = df.groupby("t")["t"].transform("size") > 1
            df["late"] = df.groupby("t")["late"].transform("first")
            df = df.drop_duplicates("t", keep="first").reset_index(drop=True)
            df["suspect"] = df["late"] | df["dup"]
            frames[name] = df
        start = min(int(df["t"].iloc[0]) for df in frames.values())
        end = max(int(df["t"].iloc[-1]) for df in frames.values())
        if isinstance(reference, str):
            x = frames[reference]["t"].to_numpy()
        else:
            n = int(np.floor((end - start) * float(reference) / 1e9 + 1e-9)) + 1
            x = start + np.round(np.arange(n) * (1e9 / float(reference))).astype(np.int64)
        tgt = pd.DataFrame({"t": x})
        cols, valid = [], []
        for name in streams:
            df, mode = frames[name], modes[name]
            t = df["t"].to_numpy()
            vals = df[[c for c in df.columns if c.startswith("c")]].to_numpy()
            pos = pd.DataFrame({"t": t, "i": np.arange(len(t))})
            back = pd.merge_asof(tgt, pos, on="t", direction="backward")["i"].to_numpy()
            fwd = pd.merge_asof(tgt, pos, on="t", direction="forward")["i"].to_numpy()
            has_l, has_r = ~np.isnan(back), ~np.isnan(fwd)
            li = np.where(has_l, back, 0).astype(np.int64)
            ri = np.where(has_r, fwd, len(t) - 1).astype(np.int64)
            exact = has_l & (t[li] == x)
            ri = np.where(exact, li, ri)
            inside = has_l & has_r
            ok = inside.copy()
            gap = max_gap if not isinstance(max_gap, dict) else max_gap.get(name)
            if gap == "auto":
                gap_ns = int(4 * np.median(np.diff(t))) if len(t) > 1 else None
            else:
                gap_ns = None if gap is None else int(round(gap * 1e9))
            if gap_ns is not None:
                ok &= ~(inside & ~exact & (t[ri] - t[li] > gap_ns))
            tol = tolerance if not isinstance(tolerance, dict) else tolerance.get(name)
            if tol is not None:
                dl = np.where(has_l, x - t[li], np.iinfo(np.int64).max)
                dr = np.where(has_r, t[ri] - x, np.iinfo(np.int64).max)
                ok &= np.minimum(dl, dr) <= int(round(tol * 1e9))
            near_r = has_r & (~has_l | (t[ri] - x < x - t[li]))
            sus = df["suspect"].to_numpy()
            if mode == "previous":
                bad = sus[li]
            elif mode == "nearest":
                bad = np.where(near_r, sus[ri], sus[li])
            else:
                bad = sus[li] | (~exact & sus[ri])
            ok &= ~bad
            valid.append(ok)
            if mode == "previous":
                out = vals[np.where(has_l, li, 0)]
            elif mode == "nearest":
                out = vals[np.where(near_r, ri, li)]
            elif mode == "slerp":
                span = (t[ri] - t[li]).astype(np.float64)
                a = np.where(inside & ~exact, (x - t[li]) / np.where(span == 0, 1, span), 0.0)
                out = _slerp(vals[li], vals[ri], a)
                out[~has_l] = vals[0]
                out[~has_r] = vals[-1]
            else:
                v = np.unwrap(vals, axis=0) if mode == "wrapped" else vals
                out = np.stack([np.interp((x - start).astype(np.float64), (t - start).astype(np.float64), v[:, c])
                                for c in range(v.shape[1])], axis=1)
                if mode == "wrapped":
                    out = (out + np.pi) % (2 * np.pi) - np.pi
            cols.append(out)
        outs.append(np.concatenate(cols, axis=1))
        masks.append(np.stack(valid, axis=1))
    T = max(len(o) for o in outs)
    B, D = len(outs), outs[0].shape[1]
    values = np.zeros((B, T, D))
    mask = np.zeros((B, T, len(streams)), bool)
    for b, (o, m) in enumerate(zip(outs, masks)):
        values[b, :len(o)], mask[b, :len(m)] = o, m
    return values, mask, np.array([len(o) for o in outs], np.int64)
