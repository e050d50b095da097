"""The wheel on a GPU machine: the installed wheel and the development build, each in a fresh
process with an empty kernel cache, compile and run every smoke-test kernel on the GPU
(scripts/wheel_smoke.py cuda) with the same NVRTC; their kernels' machine code and outputs must
be identical. Cold compile times of both are printed (a benchmark figure, not asserted).

Needs a wheel for this Python in dist/ (`PYTHON=python3.12 bash scripts/build_wheel.sh` on the
build machine for a Python 3.12 GPU machine), torch and a CUDA device; skipped otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.gpu


def _records(python_path: list, out: Path) -> tuple:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCACHE_")}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in python_path)
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "wheel_smoke.py"), "cuda", "--record", str(out)],
                          env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    where = subprocess.run([sys.executable, "-c", "import robocache, json; c = robocache.check_installation();"
                            "print(json.dumps([robocache.__file__, c['cuda']['nvrtc']]))"],
                           env=env, capture_output=True, text=True, timeout=300)
    assert where.returncode == 0, where.stderr
    return [json.loads(line) for line in out.read_text().splitlines()], json.loads(where.stdout)


def test_wheel_and_development_build_give_identical_kernels_and_outputs(tmp_path):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    wheels = sorted(ROOT.glob(f"dist/robocache-*-{tag}-*.whl"))
    if not wheels:
        pytest.skip(f"no {tag} wheel in dist/ (scripts/build_wheel.sh with this Python)")
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(site),
                    str(wheels[-1])], check=True, timeout=600)
    # Whatever else the caller's PYTHONPATH holds (ml_dtypes, say), minus the checkout's python/.
    others = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
              if p and Path(p).resolve() != (ROOT / "python").resolve()]

    wheel, wheel_where = _records([site, *others], tmp_path / "wheel.jsonl")
    dev, dev_where = _records([ROOT / "python", *others], tmp_path / "dev.jsonl")
    assert Path(wheel_where[0]).is_relative_to(site) and Path(dev_where[0]).is_relative_to(ROOT), (wheel_where,
                                                                                                    dev_where)
    assert wheel_where[1] == dev_where[1], "both sides must load the same NVRTC"
    print(f"\nNVRTC: {dev_where[1]}\n{'wheel ms':>9s} {'dev ms':>9s}  spec")
    assert [r["spec"] for r in wheel] == [r["spec"] for r in dev]
    for w, d in zip(wheel, dev):
        print(f"{w['compile_ms']:9.1f} {d['compile_ms']:9.1f}  {json.dumps(w['spec'], sort_keys=True)[:80]}")
        # The machine code: NVRTC names internal symbols uniquely per process, so whole cubins differ.
        assert w["code_sha256"] == d["code_sha256"], w["spec"]
        assert w["output_sha256"] == d["output_sha256"], w["spec"]
