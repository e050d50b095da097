"""Every code block of README.md and docs/**/*.md is run or checked, by the kind its fence names.

The convention (the fence's info string):
- ``python``: all python blocks of a page run in order in one fresh Python process (one namespace),
  cwd a temp dir, a private ROBOCACHE_CACHE_DIR and ROBOCACHE_TUNING_DB, HOME a temp dir, no GPU
  visible. numpy only.
- ``python torch``: needs torch (CPU is enough); run after the page's python blocks where torch
  imports.
- ``python gpu``: needs torch and a CUDA device; run (marked ``gpu``) after the page's python and
  python torch blocks, with the GPUs visible.
- ``bash``: every command runs from the repository root, the page's blocks in one shell (so
  ``export`` carries over), with the interpreter's bin directory (.venv/bin) first on PATH, the
  same private cache and HOME — unless it matches COVERED_ELSEWHERE, which names what runs it.
- ``json``: parsed; a spec (has "op") is validated and a manifest ("specs"/"products") expanded.
- ``cpp`` / ``cmake``: only in docs/embedding-cpp.md, whose blocks the install test builds.
- ``text`` / ``console``: output samples, not run.
Any other info string (or none) fails, so a new page has to follow the convention.

A page's blocks are put at the line numbers they have in the page (blank lines between), so a
traceback or a failing shell command names the line of the docs file itself.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import robocache
from robocache._robocache import canonical_spec
from robocache.manifest import expand_manifest

from doc_blocks import Block, blocks_of, commands_of, line_aligned

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])

PYTHON_KINDS = ("python", "python torch", "python gpu")  # each runs the kinds before it too
OUTPUT_KINDS = ("text", "console")
BUILT_ELSEWHERE = {"cpp": "docs/embedding-cpp.md", "cmake": "docs/embedding-cpp.md"}
KNOWN_KINDS = (*PYTHON_KINDS, "bash", "json", *BUILT_ELSEWHERE, *OUTPUT_KINDS)

GPU_RUN = "a GPU run on the lent machine, recorded in docs/gpu-validation.md"
ENV = r"(?:[A-Z_][A-Z0-9_]*=\S+ )*"  # leading VAR=value assignments of a command

# Shell commands of the docs that this test does not run, each with what does run it. A pattern
# must match the whole command (comments dropped, continuations joined, spaces collapsed).
COVERED_ELSEWHERE = {
    r"bash scripts/test\.sh": ".ci/run (runs scripts/test.sh)",
    r"bash scripts/demo\.sh": ".ci/run",
    r"bash scripts/setup\.sh": ".ci/run (scripts/test.sh starts with scripts/setup.sh)",
    r"pip install \.( .*)?": "tests/python/test_pip_install.py",
    r"bash scripts/build_wheel\.sh": "scripts/wheel_check.sh (.ci/run)",
    r"pip install dist/robocache-\*\.whl": "scripts/wheel_check.sh (.ci/run), in a clean Debian root",
    r'pip install "\$\(ls dist/robocache-\*\.whl\)\[cuda\]"': "scripts/wheel_check.sh (.ci/run)",
    r"cmake -S \. -B build": "tests/python/test_install_cpp.py (a Python without packages)",
    r"cmake --build build": "tests/python/test_install_cpp.py",
    ENV + r"bash scripts/gpu_(check|multi_check|sanitize|bench|ncu)\.sh( .*)?": GPU_RUN,
    ENV + r"python3? scripts/run_manifest\.py \S+": GPU_RUN + " (strict mode on a shipped bundle)",
    r"python3? bench/warm_start\.py( .*)?": GPU_RUN + "; results in bench/results/",
    r"python3? -m pytest tests/python/test_cpu_gpu_agreement\.py .*": GPU_RUN,
    r"python3? tests/python/agreement_cases\.py \S+": GPU_RUN + " (CPU outputs it compares with)",
    r"ROBOCACHE_CACHE_DIR=/tmp/sm90cache robocache (warmup|cache export) .*":
        GPU_RUN + " (its bundle; docs/deployment.md's bash block runs the same warm-up and export)",
    r"torchrun .*examples/multi_gpu_resample\.py": "scripts/gpu_multi_check.sh, " + GPU_RUN,
    r'cmake --install build --prefix "\$HOME/\.local/robocache"': "tests/python/test_install_cpp.py",
    r'cmake -S examples/embed_cpp -B build-embed -DCMAKE_PREFIX_PATH="\$HOME/\.local/robocache"':
        "tests/python/test_install_cpp.py",
    r"cmake --build build-embed": "tests/python/test_install_cpp.py",
    r"build-embed/embed_cpp examples/embed_cpp/robot\.json": "tests/python/test_install_cpp.py",
}


def covered_by(command: str) -> str | None:
    """What runs `command` instead of this test, or None when this test must run it."""
    for pattern, where in COVERED_ELSEWHERE.items():
        if re.fullmatch(pattern, command):
            return where
    return None


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _blocks(path: Path) -> list[Block]:
    return blocks_of(Path(_rel(path)), path.read_text(encoding="utf-8"))


def _pages_with(*kinds: str) -> list:
    return [pytest.param(p, id=_rel(p)) for p in PAGES if any(b.info in kinds for b in _blocks(p))]


def _cpu_backend_missing() -> str:
    """Why pages cannot run here (a build without LLVM, as on the GPU machine), or ''."""
    cpu = robocache.check_installation()["cpu"]
    return "" if cpu["available"] else f"this build has no CPU backend: {cpu.get('reason', '')}"


def _env(tmp_path: Path, gpu: bool) -> dict:
    """The caller's environment with no ROBOCACHE_* setting of its own, a private cache, tuning
    database and HOME, and no GPU unless `gpu`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOCACHE_")}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), ROBOCACHE_CACHE_DIR=str(tmp_path / "cache"),
               ROBOCACHE_TUNING_DB=str(tmp_path / "tuning.json"), PYTHONUNBUFFERED="1")
    env.pop("XDG_CACHE_HOME", None)
    if not gpu:
        env["CUDA_VISIBLE_DEVICES"] = ""
    return env


def _failure(page: str, blocks: list[Block], proc: subprocess.CompletedProcess, line_hint: re.Pattern) -> str:
    """A message naming the page, the block that failed (from the last docs line the output
    mentions) and the output."""
    lines = [int(m) for m in line_hint.findall(proc.stderr)]
    failed = None
    if lines:
        failed = next((b for b in reversed(blocks) if b.line <= lines[-1]), None)
    where = f"the block at {failed.where}" if failed else f"a block of {page}"
    return (f"{where} failed (exit status {proc.returncode}; tracebacks and `docs line N` name lines of {page})\n"
            f"--- stderr ---\n{proc.stderr[-6000:]}\n--- stdout ---\n{proc.stdout[-2000:]}")


def _run_python(page: Path, kind: str, tmp_path: Path) -> None:
    wanted = PYTHON_KINDS[: PYTHON_KINDS.index(kind) + 1]
    blocks = [b for b in _blocks(page) if b.info in wanted]
    script = tmp_path / (page.name + ".py")
    script.write_text(line_aligned(blocks))
    proc = subprocess.run([sys.executable, script.name], cwd=tmp_path, env=_env(tmp_path, kind == "python gpu"),
                          capture_output=True, text=True, timeout=300)
    hint = re.compile(rf'File "[^"]*{re.escape(script.name)}", line (\d+)')
    assert proc.returncode == 0, _failure(_rel(page), blocks, proc, hint)


@pytest.mark.parametrize("page", [pytest.param(p, id=_rel(p)) for p in PAGES])
def test_every_block_has_a_known_kind(page):
    unknown = [f"{b.where}: ```{b.info or ' (no info string)'}" for b in _blocks(page) if b.info not in KNOWN_KINDS]
    assert not unknown, (f"code blocks of an unknown kind (known: {', '.join(KNOWN_KINDS)}; "
                         f"see the convention in {_rel(Path(__file__))}): {unknown}")


@pytest.mark.parametrize("page", _pages_with(*BUILT_ELSEWHERE))
def test_cpp_and_cmake_blocks_live_where_the_install_test_builds_them(page):
    stray = [f"{b.where}: ```{b.info}" for b in _blocks(page)
             if b.info in BUILT_ELSEWHERE and _rel(page) != BUILT_ELSEWHERE[b.info]]
    assert not stray, f"only {BUILT_ELSEWHERE['cpp']}'s C++/CMake blocks are built (by the install test): {stray}"


@pytest.mark.parametrize("page", _pages_with("python"))
def test_python_blocks_run(page, tmp_path):
    if reason := _cpu_backend_missing():
        pytest.skip(reason)
    _run_python(page, "python", tmp_path)


@pytest.mark.parametrize("page", _pages_with("python torch"))
def test_python_torch_blocks_run(page, tmp_path):
    pytest.importorskip("torch", reason="`python torch` blocks need torch")
    if reason := _cpu_backend_missing():
        pytest.skip(reason)
    _run_python(page, "python torch", tmp_path)


@pytest.mark.gpu
@pytest.mark.parametrize("page", _pages_with("python gpu"))
def test_python_gpu_blocks_run(page, tmp_path):
    pytest.importorskip("torch", reason="`python gpu` blocks need torch")
    if reason := _cpu_backend_missing():
        pytest.skip(reason + " (the page's plain python blocks, which run first, need it)")
    _run_python(page, "python gpu", tmp_path)


def _shell_script(blocks: list[Block]) -> tuple[str, list[str], int]:
    """The bash blocks as one line-aligned script with the covered commands blanked out, what was
    left out and why, and how many commands the script runs."""
    lines = line_aligned(blocks).splitlines()
    skipped, runs = [], 0
    for b in blocks:
        for c in commands_of(b):
            if where := covered_by(c.text):
                lines[c.line - 1: c.line - 1 + c.span] = [""] * c.span
                skipped.append(f"{b.path}:{c.line} `{c.text}` -> {where}")
            else:
                runs += 1
    # Line 1 of a page is never inside a block, so the preamble there keeps the numbering.
    lines[0] = ("set -eo pipefail; PS4='+ docs line $LINENO: '; set -x; "
                "trap 's=$?; echo \"docs line $LINENO: exit status $s\" >&2' ERR")
    return "\n".join(lines) + "\n", skipped, runs


@pytest.mark.parametrize("page", _pages_with("bash"))
def test_bash_blocks_run(page, tmp_path):
    blocks = [b for b in _blocks(page) if b.info == "bash"]
    script, skipped, runs = _shell_script(blocks)
    if skipped:
        print("run elsewhere:", *skipped, sep="\n  ")
    if not runs:
        return  # every command matched COVERED_ELSEWHERE, which names what runs it
    if reason := _cpu_backend_missing():
        pytest.skip(reason)
    env = _env(tmp_path, gpu=False)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    path = tmp_path / (page.name + ".sh")
    path.write_text(script)
    proc = subprocess.run(["bash", str(path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, _failure(_rel(page), blocks, proc, re.compile(r"docs line (\d+)"))


@pytest.mark.parametrize("page", _pages_with("json"))
def test_json_blocks_are_valid_specs_and_manifests(page):
    for b in (b for b in _blocks(page) if b.info == "json"):
        try:
            doc = json.loads(b.code)
        except json.JSONDecodeError as e:
            pytest.fail(f"{b.where}: not JSON: {e}")
        try:
            if isinstance(doc, dict) and "op" in doc:
                canonical_spec(json.dumps(doc))
            elif isinstance(doc, dict) and ({"specs", "products"} & set(doc)):
                assert expand_manifest(doc), "the manifest lists no spec"
        except (ValueError, AssertionError) as e:
            pytest.fail(f"{b.where}: {e}")


# The harness's own parsing: each behaviour below would otherwise let a block escape unnoticed.

def test_blocks_keep_their_info_string_and_first_line():
    text = "# t\n\n```python torch\nx = 1\n```\n\n```\nout\n```\n"
    got = [(b.info, b.line, b.code) for b in blocks_of(Path("p.md"), text)]
    assert got == [("python torch", 4, "x = 1"), ("", 8, "out")]


def test_line_aligned_program_puts_code_at_its_docs_line():
    blocks = blocks_of(Path("p.md"), "a\n```python\nx = 1\n```\nb\n```python\ny = 2\n```\n")
    program = line_aligned(blocks).splitlines()
    assert (program[2], program[6]) == ("x = 1", "y = 2")


def test_commands_join_continuations_and_drop_comments():
    block = blocks_of(Path("p.md"), "```bash\n# note\nA=1 run \\\n  --flag x  # why\necho '#' ok\n```\n")[0]
    assert [(c.line, c.span, c.text) for c in commands_of(block)] == [(3, 2, "A=1 run --flag x"),
                                                                     (5, 1, "echo '#' ok")]


def test_covered_table_needs_the_whole_command_to_match():
    assert covered_by("bash scripts/test.sh") == ".ci/run (runs scripts/test.sh)"
    assert covered_by("bash scripts/test.sh; rm -rf build") is None
    assert covered_by("robocache warmup m.json --target cpu") is None
