"""The `robocache` command: warmup with a manifest, cache maintenance, compile --emit."""

import json

import pytest

from cache_helpers import cheap_target, run_child, run_cli, specs

import robocache

TARGET = cheap_target()


def write_manifest(path):
    path.write_text(json.dumps({
        "specs": [{"op": "resample", "dtype": "f32", "dim": 7}],
        "products": [{"base": {"op": "resample"},
                      "vary": {"dtype": ["f32", "bf16"], "dim": [7, 14]}}],
    }))
    return path


def test_manifest_expands_products_and_removes_duplicates():
    from robocache.manifest import expand_manifest

    out = expand_manifest({"products": [{"base": {"op": "resample"},
                                         "vary": {"dtype": ["f32", "f16"], "dim": [1, 2, 3]}}],
                           "specs": [{"op": "resample", "dtype": "f32", "dim": 1}]})
    assert len(out) == 6
    assert {(s["dtype"], s["dim"]) for s in out} == {(d, n) for d in ("f32", "f16") for n in (1, 2, 3)}


def test_manifest_errors_say_where():
    from robocache.manifest import expand_manifest

    with pytest.raises(ValueError, match=r"products\[0\].*spec field 'dim'"):
        expand_manifest({"products": [{"base": {"op": "resample", "dtype": "f32"}, "vary": {"dim": [0]}}]})
    with pytest.raises(ValueError, match="unknown key"):
        expand_manifest({"spec": []})


def test_warmup_then_a_fresh_process_compiles_nothing(tmp_path):
    manifest = write_manifest(tmp_path / "m.json")
    out = run_cli(["warmup", str(manifest), "--target", TARGET, "--jobs", "2"], tmp_path / "c")
    assert out.returncode == 0, out.stderr
    assert "100%" in out.stdout and "warmup: 4/4" in out.stderr
    again = run_cli(["warmup", str(manifest), "--target", TARGET], tmp_path / "c")
    line = next(l for l in again.stdout.splitlines() if l.startswith(TARGET))
    assert line.split()[1:5] == ["4", "0", "4", "0"]  # specs, compiled, cached, failed
    r = run_child([{"op": "resample", "dtype": "bf16", "dim": 14}], TARGET, tmp_path / "c")
    assert r["stats"]["compiles"] == 0


@pytest.mark.skipif(not robocache.check_installation()["cuda"]["compile_only"], reason="no NVRTC here")
def test_warmup_builds_sm90_entries_without_a_gpu(tmp_path):
    manifest = write_manifest(tmp_path / "m.json")
    out = run_cli(["warmup", str(manifest), "--target", "sm_90"], tmp_path / "c")
    assert out.returncode == 0, out.stderr
    ls = run_cli(["cache", "ls"], tmp_path / "c")
    assert ls.stdout.count("sm_90") == 4 and "cubin" in ls.stdout


def test_cache_stat_ls_verify_gc_clear(tmp_path):
    run_child(specs(2), TARGET, tmp_path)
    stat_out = run_cli(["cache", "stat"], tmp_path).stdout
    assert "entries     2" in stat_out
    assert len(run_cli(["cache", "ls"], tmp_path).stdout.strip().splitlines()) == 2
    assert run_cli(["cache", "verify"], tmp_path).returncode == 0
    victim = next(p for p in tmp_path.rglob("*.rck"))
    victim.write_bytes(victim.read_bytes()[:40])
    bad = run_cli(["cache", "verify"], tmp_path)
    assert bad.returncode == 1 and "1 invalid" in bad.stdout
    assert "removed 1 invalid" in run_cli(["cache", "gc"], tmp_path).stdout
    assert "removed 1 entries" in run_cli(["cache", "clear"], tmp_path).stdout
    assert list(tmp_path.rglob("*.rck")) == []


def test_compile_emit_source_and_binary(tmp_path):
    spec = json.dumps({"op": "resample", "dtype": "f32", "dim": 3})
    out = run_cli(["compile", spec, "--target", TARGET, "--emit", "source"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert ("define" in out.stdout) if TARGET == "cpu" else ("__global__" in out.stdout)
    binfile = tmp_path / "k.bin"
    emit = "object" if TARGET == "cpu" else "cubin"
    out = run_cli(["compile", spec, "--target", TARGET, "--emit", emit, "-o", str(binfile)], tmp_path)
    assert out.returncode == 0, out.stderr
    assert binfile.read_bytes()[:4] == b"\x7fELF"


def test_cli_reports_bad_specs_as_errors(tmp_path):
    out = run_cli(["compile", '{"op":"resample","dtype":"f32","dim":0}'], tmp_path)
    assert out.returncode == 2 and "spec field 'dim'" in out.stderr


@pytest.mark.skipif(not robocache.check_installation()["cuda"]["compile_only"], reason="no NVRTC here")
def test_compile_emit_ptx_for_sm90(tmp_path):
    out = run_cli(["compile", '{"op":"resample","dtype":"f32","dim":3}', "--target", "sm_90", "--emit", "ptx"],
                  tmp_path)
    assert out.returncode == 0, out.stderr
    assert ".target sm_90" in out.stdout and ".entry" in out.stdout


@pytest.mark.skipif(not robocache.check_installation()["cpu"]["available"], reason="no CPU backend here")
def test_compile_emit_asm_for_the_cpu(tmp_path):
    out = run_cli(["compile", '{"op":"resample","dtype":"f32","dim":3}', "--target", "cpu", "--emit", "asm"],
                  tmp_path)
    assert out.returncode == 0, out.stderr
    assert ".globl" in out.stdout and "robocache_resample" in out.stdout
    wrong = run_cli(["compile", '{"op":"resample","dtype":"f32","dim":3}', "--target", "cpu", "--emit", "ptx"],
                    tmp_path)
    assert wrong.returncode == 2 and "cannot emit 'ptx'" in wrong.stderr
