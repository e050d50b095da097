"""Smoke test of an installed robocache (scripts/wheel_check.sh runs it from the wheel, in a clean
Debian root with nothing but Python; bench/wheel_vs_dev.py runs it against both builds).

    python wheel_smoke.py cpu      every op on the CPU backend, checked against small numpy references
    python wheel_smoke.py cuda     every op on the GPU (torch CUDA tensors), checked the same way
    python wheel_smoke.py sm_90    every op compiled for sm_90 by NVRTC (no GPU needed)
        --nvrtc-origin ORIGIN      and fail unless check_installation() names that origin
    python wheel_smoke.py cpu --record FILE   also writes one JSON line per kernel: spec, target,
                                   cold compile ms, and SHA-256 of the binary and of the CPU output

Prints check_installation() first, so the log says which NVRTC (version, file, origin) was used.
Exits non-zero with a message on the first wrong result.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time

# A private, empty cache: every compile below is cold.
os.environ["ROBOCACHE_CACHE_DIR"] = tempfile.mkdtemp(prefix="robocache-smoke-")

import numpy as np  # noqa: E402

import robocache  # noqa: E402

INTERPS = ["linear", "nearest", "previous", "cubic", "slerp"]
VOXEL_MODES = ["occupancy", "count", "mean", "max"]


def specs() -> list:
    """One spec per op and mode: what the smoke test compiles."""
    out = [{"op": "resample", "dtype": "f32", "dim": 4, "interp": m} for m in INTERPS]
    out.append({"op": "resample", "dtype": "bf16", "dim": 8,
                "groups": [{"start": 0, "size": 3}, {"start": 3, "size": 4, "interp": "slerp"},
                           {"start": 7, "size": 1, "interp": "previous"}]})
    out.append({"op": "fuse", "dtype": "f32", "modalities": [{"dim": 4}, {"dim": 2, "interp": "nearest"}]})
    out += [{"op": "voxelize", "mode": m, "features": 0 if m in ("occupancy", "count") else 2}
            for m in VOXEL_MODES]
    return out


def machine_code_sha256(cubin: bytes) -> str:
    """SHA-256 of a cubin's machine code: its .text sections (SASS), names and bytes. NVRTC names
    internal-linkage symbols with a per-process unique token (`..._cu_165e1406_58859...`), so two
    compiles of one kernel differ in their symbol tables even with one NVRTC; the code does not."""
    import re
    import struct

    shoff, = struct.unpack_from("<Q", cubin, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", cubin, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", cubin, shoff + i * shentsize) for i in range(shnum)]
    names_at = sections[shstrndx][4]
    h, found = hashlib.sha256(), 0
    for sec in sections:
        name = cubin[names_at + sec[0]:cubin.index(b"\0", names_at + sec[0])]
        if name.startswith(b".text"):
            h.update(re.sub(rb"_cu_[0-9a-f]{8}_[0-9]+", b"_cu_", name) + b"\0")
            h.update(cubin[sec[4]:sec[4] + sec[5]])
            found += 1
    if not found:
        fail("the cubin has no .text section")
    return h.hexdigest()


def fail(msg: str) -> None:
    print(f"SMOKE FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def inputs(rng):
    """Small arrays: 2 rows of 50 samples at 100 Hz (epoch-second f64 times), 17 targets."""
    src = 1.7e9 + np.arange(50) / 100.0
    tgt = np.concatenate([src[[0, 7, 20, 49]], 1.7e9 + rng.uniform(-0.05, 0.55, 13)])
    data = rng.standard_normal((2, 50, 4))
    data /= np.linalg.norm(data, axis=-1, keepdims=True)  # a unit quaternion per sample, for slerp
    return data.astype(np.float32), src, tgt


def interp_reference(data, src, tgt, mode):
    """numpy reference for linear and previous (ops.md §1); the others are checked at sample times."""
    out = np.empty((data.shape[0], tgt.size, data.shape[2]), np.float64)
    d = data.astype(np.float64)
    for b in range(d.shape[0]):
        for c in range(d.shape[2]):
            if mode == "linear":
                out[b, :, c] = np.interp(tgt, src, d[b, :, c])
            else:
                idx = np.clip(np.searchsorted(src, tgt, side="right") - 1, 0, src.size - 1)
                out[b, :, c] = d[b, idx, c]
    return out


class Device:
    """Moves numpy inputs to where the kernel runs and outputs back: the CPU as they are, CUDA as
    torch tensors (bf16 through its bits, as numpy's bfloat16 is ml_dtypes')."""

    def __init__(self, target: str):
        self.cuda = target == "cuda"
        self.backend = "cuda" if self.cuda else "cpu"

    def to(self, a):
        if not self.cuda:
            return a
        import torch

        if a.dtype.name == "bfloat16":
            return torch.from_numpy(a.view(np.uint16).astype(np.int16)).view(torch.bfloat16).cuda()
        return torch.from_numpy(np.ascontiguousarray(a)).cuda()

    def back(self, t):
        if not self.cuda:
            return t
        import torch

        if t.dtype == torch.bfloat16:
            import ml_dtypes

            return t.view(torch.int16).cpu().numpy().view(ml_dtypes.bfloat16)
        return t.cpu().numpy()

    def call(self, kernel, *args, **kwargs):
        conv = lambda a: self.to(a) if isinstance(a, np.ndarray) else a  # noqa: E731
        args = [[tuple(conv(x) for x in item) for item in a] if isinstance(a, list) else conv(a) for a in args]
        return self.back(kernel(*args, **{k: conv(v) for k, v in kwargs.items()}))


def run(kernel, spec, rng, dev: Device):
    """Runs `kernel` on small inputs on `dev` and checks the result; returns the output (numpy)."""
    data, src, tgt = inputs(rng)
    op = spec["op"]
    if op == "resample" and spec["dtype"] == "f32":
        out = dev.call(kernel, data, src, tgt)
        mode = spec["interp"]
        if mode in ("linear", "previous"):
            ref = interp_reference(data, src, tgt, mode)
            if not np.allclose(out, ref, rtol=1e-5, atol=1e-6):
                fail(f"resample {mode}: max error {np.max(np.abs(out - ref)):.3g} against numpy")
        # Every mode returns the sample itself at a sample time (the first 4 targets are sample times).
        at = data[:, [0, 7, 20, 49], :]
        if not np.allclose(out[:, :4], at, rtol=1e-5, atol=1e-6):
            fail(f"resample {mode}: output at the sample times is not the samples")
        return out
    if op == "resample":
        import ml_dtypes

        d8 = np.concatenate([data[..., :3], data, data[..., :1]], axis=-1).astype(ml_dtypes.bfloat16)
        out = dev.call(kernel, d8, src, tgt)
        if out.shape != (2, tgt.size, 8) or not np.all(np.isfinite(out.astype(np.float32))):
            fail(f"resample bf16 groups: shape {out.shape} or non-finite values")
        return out
    if op == "fuse":
        force = rng.standard_normal((2, 80, 2)).astype(np.float32)
        t_force = 1.7e9 + np.arange(80) / 160.0
        out = dev.call(kernel, [(data, src), (force, t_force)], tgt)
        lin = dev.call(robocache.resample_trajectories, data, src, tgt, backend=dev.backend)
        near = dev.call(robocache.resample_trajectories, force, t_force, tgt, interp="nearest",
                        backend=dev.backend)
        if not np.array_equal(out, np.concatenate([lin, near], axis=-1)):
            fail("fuse differs from the two resamples it concatenates")
        return out
    # voxelize: count / occupancy / mean / max against np.add.at and np.fmax.at
    points = rng.uniform(-1.2, 1.2, (500, 3)).astype(np.float32)
    feats = rng.standard_normal((500, 2)).astype(np.float32)
    shape = (8, 8, 8)
    idx = np.floor((points.astype(np.float64) + 1.0) / 0.25).astype(np.int64)
    keep = np.all((idx >= 0) & (idx < 8), axis=1)
    flat = (idx[keep, 0] * 8 + idx[keep, 1]) * 8 + idx[keep, 2]
    count = np.zeros(512, np.int64)
    np.add.at(count, flat, 1)
    mode = spec["mode"]
    args = (points, (-1.0, -1.0, -1.0), 0.25, shape)
    out = dev.call(kernel, *args, features=feats) if spec["features"] else dev.call(kernel, *args)
    if mode == "count":
        ref = count.reshape(shape)
    elif mode == "occupancy":
        ref = (count > 0).reshape(shape)
    elif mode == "mean":
        s = np.zeros((512, 2))
        np.add.at(s, flat, feats[keep].astype(np.float64))
        ref = (s / np.maximum(count, 1)[:, None]).reshape(shape + (2,))
    else:
        m = np.full((512, 2), -np.inf)
        np.fmax.at(m, flat, feats[keep].astype(np.float64))
        ref = np.where(count[:, None] > 0, m, 0).reshape(shape + (2,))
    if not np.allclose(np.asarray(out, np.float64), ref, rtol=1e-5, atol=1e-6):
        fail(f"voxelize {mode}: differs from the numpy reference")
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("target", choices=["cpu", "sm_90", "cuda"])
    ap.add_argument("--record", help="append one JSON line per kernel to this file")
    ap.add_argument("--nvrtc-origin", help="fail unless check_installation() says NVRTC came from here")
    args = ap.parse_args()

    status = robocache.check_installation()
    print(json.dumps(status, indent=2))
    if args.target == "cpu" and not status["cpu"]["available"]:
        fail(f"CPU backend unavailable: {status['cpu'].get('reason')}")
    if args.target == "cuda" and not status["cuda"]["available"]:
        fail(f"CUDA unavailable: {status['cuda'].get('reason')}")
    if args.target in ("sm_90", "cuda"):
        if not status["cuda"]["compile_only"]:
            fail(f"NVRTC unavailable: {status['cuda']['nvrtc']}")
        print(f"NVRTC {status['cuda']['nvrtc_version']} from {status['cuda']['nvrtc_origin']} "
              f"({status['cuda']['nvrtc_wheel'] or 'no wheel'}): {status['cuda']['nvrtc_library']}")
        if args.nvrtc_origin and status["cuda"]["nvrtc_origin"] != args.nvrtc_origin:
            fail(f"NVRTC came from {status['cuda']['nvrtc_origin']!r}, expected {args.nvrtc_origin!r}")

    rng = np.random.default_rng(0)
    records = []
    for spec in specs():
        t0 = time.perf_counter()
        kernel = robocache.compile(spec, args.target)
        ms = (time.perf_counter() - t0) * 1e3
        expected = kernel.target.startswith("sm_") if args.target == "cuda" else kernel.target == args.target
        if not expected or not kernel.binary:
            fail(f"{spec}: compiled for {kernel.target!r} with {len(kernel.binary)} bytes of code")
        rec = {"spec": kernel.spec, "target": kernel.target, "compile_ms": round(ms, 2),
               "binary_sha256": hashlib.sha256(kernel.binary).hexdigest()}
        if kernel.target.startswith("sm_"):
            rec["code_sha256"] = machine_code_sha256(kernel.binary)
        if args.target in ("cpu", "cuda"):
            out = run(kernel, spec, rng, Device(args.target))
            rec["output_sha256"] = hashlib.sha256(np.ascontiguousarray(out).tobytes()).hexdigest()
        records.append(rec)
        print(f"  {args.target:5s} {ms:8.1f} ms  {json.dumps(kernel.spec, sort_keys=True)}")
    if args.record:
        with open(args.record, "a") as f:
            for rec in records:
                f.write(json.dumps(rec, sort_keys=True) + "\n")
    print(f"smoke {args.target}: {len(records)} kernels OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
