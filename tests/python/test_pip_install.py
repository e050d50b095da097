"""`pip install .` into a fresh virtual environment, then the demo and the `robocache` command run
from there, outside the checkout, so they import the installed package.

pip builds the C++ library and the extension again (scikit-build-core, in an isolated build
environment fetched from the package index): several minutes on two cores. Progress goes to the
terminal every 30 s; a failure shows the tail of pip's verbose log. Skipped only where the package
index cannot be reached, or under the sanitizer run (scripts/test.sh runs it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 3600


def _env(tmp_path: Path) -> dict:
    """The caller's environment without anything that would make the fresh venv see the checkout
    (PYTHONPATH), the caller's cache settings or a sanitizer preload; a private HOME."""
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("ROBOCACHE_", "PIP_"))}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), ROBOCACHE_CACHE_DIR=str(tmp_path / "cache"), PYTHONUNBUFFERED="1")
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    if shutil.which("ccache"):  # a rebuild on a developer machine reuses earlier objects
        env["CMAKE_ARGS"] = (env.get("CMAKE_ARGS", "") + " -DCMAKE_CXX_COMPILER_LAUNCHER=ccache").strip()
    return env


def _index_unreachable(tmp_path: Path, env: dict) -> str:
    """Why the package index cannot be used here, or ''."""
    try:
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                               "-d", str(tmp_path / "probe"), "scikit-build-core"],
                              env=env, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return "no network to the package index (pip download timed out)"
    if proc.returncode != 0:
        return "no network to the package index: " + (proc.stderr.strip().splitlines() or ["?"])[-1]
    return ""


def _pip_install(python: Path, env: dict, log: Path) -> None:
    """pip install -v of the checkout, its output in `log`, a progress line every 30 s."""
    start = time.monotonic()
    with log.open("w") as out:
        proc = subprocess.Popen([str(python), "-m", "pip", "install", "-v", "--disable-pip-version-check", str(ROOT)],
                                cwd=log.parent, env=env, stdout=out, stderr=subprocess.STDOUT)
        while proc.poll() is None:
            elapsed = time.monotonic() - start
            if elapsed > BUILD_TIMEOUT_S:
                proc.kill()
                proc.wait()
                break
            time.sleep(min(30, BUILD_TIMEOUT_S - elapsed + 1))
            last = (log.read_text(errors="replace").strip().splitlines() or [""])[-1][:120]
            print(f"[pip install .] {time.monotonic() - start:.0f} s: {last}", file=sys.__stderr__, flush=True)
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-80:])
    assert proc.returncode == 0, f"pip install . failed ({proc.returncode}); log {log}, tail:\n{tail}"


def test_pip_install_in_a_fresh_venv_runs_the_demo_and_the_command(tmp_path):
    if "asan" in os.environ.get("LD_PRELOAD", ""):
        pytest.skip("packaging is not what the sanitizer run checks; scripts/test.sh runs this test")
    env = _env(tmp_path)
    if reason := _index_unreachable(tmp_path, env):
        pytest.skip(reason)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env, timeout=300)
    python = venv / "bin" / "python"
    _pip_install(python, env, tmp_path / "pip-install.log")

    elsewhere = tmp_path / "elsewhere"  # not the checkout: `import robocache` must find the installed one
    elsewhere.mkdir()
    where = subprocess.run([str(python), "-c", "import robocache, robocache._robocache as m; print(m.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).resolve().is_relative_to(venv.resolve()), where.stdout

    demo = subprocess.run([str(python), "-m", "robocache.demo"], cwd=elsewhere, env=env, capture_output=True,
                          text=True, timeout=900)
    assert demo.returncode == 0, f"--- stdout ---\n{demo.stdout[-3000:]}\n--- stderr ---\n{demo.stderr[-3000:]}"
    assert "cpu" in demo.stdout, demo.stdout

    check = subprocess.run([str(venv / "bin" / "robocache"), "check"], cwd=elsewhere, env=env, capture_output=True,
                           text=True, timeout=300)
    assert check.returncode == 0, check.stdout + check.stderr
    status = json.loads(check.stdout)
    assert status["cpu"]["available"], status
