"""`robocache audit PATH` on a real MCAP file and a real LeRobot folder: the table, the PNG, the
progress bar, exit codes 0 (clean) / 1 (problems found) / 2 (cannot audit) and one-line errors."""

import os
import subprocess
import sys

import pytest

pytest.importorskip("mcap_ros2", reason="robocache audit's tests need the io extra")
pytest.importorskip("av", reason="robocache audit's tests need the io extra")
pytest.importorskip("rich", reason="robocache audit's tests need the io extra")
pytest.importorskip("matplotlib", reason="robocache audit's tests need the io extra")

from robocache.io.synthetic import Faults, write_lerobot, write_ros2_mcap  # noqa: E402

pytestmark = pytest.mark.cpu_backend
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def audit(*args, cwd):
    """Runs the command as a user does, in a fresh process."""
    env = dict(os.environ, COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "robocache", "audit", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=300)


def audit_here(*args, capsys):
    """The same command through robocache.cli.main in this process (no interpreter start-up)."""
    from robocache.cli import main

    code = main(["audit", *map(str, args)])
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out.out, out.err)


@pytest.fixture(scope="module")
def logs(tmp_path_factory):
    d = tmp_path_factory.mktemp("logs")
    write_ros2_mcap(d / "faulty.mcap", seconds=1.0, seed=1,
                    faults=Faults(jitter=0.1, gap_s=0.2, duplicate=0.02, out_of_order=0.02))
    write_ros2_mcap(d / "clean.mcap", seconds=1.0, seed=2, faults=Faults(jitter=0.05),
                    rates={"/joint_states": 100.0, "/wrench": 200.0})
    write_lerobot(d / "dataset", episodes=2, seconds=1.0)
    return d


def test_a_faulty_bag_prints_the_table_writes_the_png_and_exits_1(logs, tmp_path):
    r = audit(logs / "faulty.mcap", "--png", tmp_path / "faulty.png", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    for column in ("stream", "rate Hz", "jitter ms", "gaps", "duplicates", "out of order", "masked"):
        assert column in r.stdout
    assert "/joint_states.position" in r.stdout and "/wrench.force" in r.stdout
    assert "6 clocks" in r.stdout and "duplicates" in r.stdout.splitlines()[-1]
    assert (tmp_path / "faulty.png").read_bytes()[:8] == PNG_MAGIC
    assert "Traceback" not in r.stderr


def test_a_clean_bag_exits_0_and_the_png_defaults_to_the_working_directory(logs, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = audit_here(logs / "clean.mcap", "--rate", "50", capsys=capsys)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 problem(s) in 2 clocks" in r.stdout
    assert (tmp_path / "clean.mcap.audit.png").read_bytes()[:8] == PNG_MAGIC


def test_a_lerobot_folder_with_a_forced_progress_bar(logs, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = audit_here(logs / "dataset", "--progress", "--no-png", "--reference", "observation.state", capsys=capsys)
    assert r.returncode == 0, r.stderr
    assert "episode_1" in r.stdout and "observation.images.front" in r.stdout
    assert not list(tmp_path.glob("*.png"))


@pytest.mark.parametrize("case", ["missing", "truncated", "not_mcap", "empty_folder"])
def test_unreadable_inputs_exit_2_with_one_line_and_no_traceback(logs, tmp_path, case, capsys):
    if case == "missing":
        path = tmp_path / "nothing.mcap"
    elif case == "truncated":
        path = tmp_path / "cut.mcap"
        path.write_bytes((logs / "faulty.mcap").read_bytes()[:4000])
    elif case == "not_mcap":
        path = tmp_path / "notes.mcap"
        path.write_text("not a bag\n")
    else:
        path = tmp_path / "folder"
        path.mkdir()
    r = audit(path, cwd=tmp_path) if case == "truncated" else audit_here(path, capsys=capsys)
    assert r.returncode == 2
    assert r.stderr.startswith("robocache audit: error: ") and str(path) in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
