"""Compile once for the fleet: the driver builds a bundle of exactly the kernels a job runs, every
worker installs it in strict mode and so never compiles.

The bundle is the deployment bundle of docs/deployment.md (`robocache cache export`), restricted
to the job's keys; a FleetKernels object carries its bytes, so it travels to workers through Ray's
object store (or `save`/`load` put it on a shared path). Nothing here imports Ray.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple


class FleetKernelsError(RuntimeError):
    """A worker could not install the fleet's kernels (its robocache started before them)."""


@dataclass(frozen=True)
class FleetKernels:
    """The kernels of one job, as one bundle.

    bundle: the bundle file's bytes. kernels: (canonical spec JSON, target, key) of each kernel,
    in the order the driver met them. built_with: target -> the toolchain that compiled its
    kernels (what a worker's own compiler is compared with)."""

    bundle: bytes
    kernels: Tuple[Tuple[str, str, str], ...]
    built_with: Dict[str, str]

    # ---- the driver ------------------------------------------------------------------------------
    @classmethod
    def from_specs(cls, specs: Iterable[dict], targets: Sequence[str] = ("cpu",)) -> "FleetKernels":
        """Compiles (or finds in this process's cache) each spec for each target and bundles them.

        targets: "cpu" and/or CUDA arches ("sm_90"; NVRTC compiles them without a GPU). The CPU
        code is for this machine's CPU model: workers on another CPU model get a clear error."""
        import robocache
        from robocache._native import _robocache as native

        specs = list(specs)
        if not specs:
            raise ValueError("argument 'specs': no kernel to ship (run the job once on a sample first)")
        kernels = []
        for target in targets:
            for spec in specs:
                k = robocache.compile(spec, target)
                kernels.append((json.dumps(k.spec, sort_keys=True), target, k.key))
        keys = sorted({key for _, _, key in kernels})
        with tempfile.TemporaryDirectory(prefix="robocache-fleet-") as tmp:
            path = Path(tmp) / "fleet.rcb"
            native.cache_export(str(path), keys)
            data = path.read_bytes()
        by_key = {e["key"]: e for e in native.cache_entries(True)}
        built_with = {t: by_key[key]["toolchain"] for _, t, key in kernels if key in by_key}
        return cls(data, tuple(kernels), built_with)

    @classmethod
    def for_pipeline(cls, episode_map, sample, targets: Optional[Sequence[str]] = None) -> "FleetKernels":
        """Runs `episode_map` (an EpisodeMap) once on `sample` (a batch, as map_batches gives it) in
        this process on the CPU, and bundles every kernel it used, for `targets` (default: the
        map's own: "cpu", or "sm_90" for device="cuda"). The sample must have every stream the job
        aligns: a spec the sample did not need is missing on the workers (a CacheMissError that
        names it)."""
        from robocache.ops import record_kernels

        with record_kernels() as used:
            episode_map.on_cpu()(sample)
        specs = []
        for k in used:
            if k.spec not in specs:
                specs.append(k.spec)
        return cls.from_specs(specs, targets or [episode_map.target])

    def save(self, path) -> None:
        """Writes the bundle to `path` (e.g. a shared file system) and its kernel list beside it
        (`path` + ".json"), read-only."""
        path = Path(path)
        for p, data in ((path, self.bundle),
                        (Path(f"{path}.json"), json.dumps({"kernels": self.kernels, "built_with": self.built_with},
                                                          indent=1).encode())):
            tmp = p.with_name(p.name + ".tmp")
            tmp.write_bytes(data)
            os.chmod(tmp, 0o444)
            os.replace(tmp, p)

    @classmethod
    def load(cls, path) -> "FleetKernels":
        """The FleetKernels `save` wrote."""
        path = Path(path)
        meta = json.loads(Path(f"{path}.json").read_text())
        return cls(path.read_bytes(), tuple(tuple(k) for k in meta["kernels"]), dict(meta["built_with"]))

    @property
    def specs(self) -> List[dict]:
        """The distinct specs shipped."""
        out: List[dict] = []
        for spec_json, _, _ in self.kernels:
            spec = json.loads(spec_json)
            if spec not in out:
                out.append(spec)
        return out

    # ---- a worker --------------------------------------------------------------------------------
    def install(self, deterministic: bool = True) -> Dict[str, int]:
        """Makes this process run only the fleet's kernels: strict cache mode, the bundle as its only
        source, then loads every kernel (so a mismatch fails here, at the worker's start, not in the
        middle of a batch). Must run before anything else in the process uses robocache.

        deterministic: one CPU thread for RoboCache (ROBOCACHE_NUM_THREADS=1), so voxel `mean`
        sums each voxel's points in input order and gives the same bits as a one-process run.

        Raises robocache.CacheMissError naming the spec, the target and, when the bundle holds the
        spec for another GPU arch, CPU or compiler version, both sides; FleetKernelsError when
        robocache was already started in this process with other settings. Returns cache_stats()."""
        import robocache
        from robocache._native import _robocache as native

        home = tempfile.mkdtemp(prefix="robocache-worker-")  # private (0700): trusted by the loader
        atexit.register(shutil.rmtree, home, True)  # the engine keeps the bundle's bytes in memory
        bundle = os.path.join(home, "fleet.rcb")
        with open(os.open(bundle, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400), "wb") as f:
            f.write(self.bundle)
        os.environ["ROBOCACHE_CACHE_MODE"] = "strict"
        os.environ["ROBOCACHE_CACHE_BUNDLES"] = bundle
        os.environ["ROBOCACHE_CACHE_DIR"] = os.path.join(home, "cache")  # empty: the bundle or nothing
        if deterministic:
            os.environ["ROBOCACHE_NUM_THREADS"] = "1"
        info = native.cache_info()
        if info["mode"] != "strict" or bundle not in info["bundles"]:
            raise FleetKernelsError(
                f"robocache was started in this process (pid {os.getpid()}) before the fleet kernels were "
                f"installed (cache mode {info['mode']!r}, bundles {info['bundles']}); install them first, in a "
                "fresh process: EpisodeMap does it in its constructor, and Ray starts one process per actor")
        for spec_json, target, _ in self.kernels:
            # CUDA kernels load for this worker's GPU ("cuda"), so another arch misses and says so
            robocache.compile(spec_json, "cpu" if target == "cpu" else "cuda")
        return robocache.cache_stats()
