"""The CPU thread policy (python/robocache/_threads.py): set_num_threads, ROBOCACHE_NUM_THREADS, one
thread in a forked child or a DataLoader worker. Each case runs in a fresh interpreter, since the
policy reads the environment and asks the worker probe once per process."""

import os
import subprocess
import sys
import textwrap

import pytest

import robocache

CALL = textwrap.dedent("""
    import numpy as np, robocache
    def call():
        d = np.ones((4, 100, 7), np.float32)
        s = np.arange(100, dtype=np.float64)
        robocache.resample_trajectories(d, s, np.linspace(0, 99, 50))
    """)


def run(code, env=None):
    e = {k: v for k, v in os.environ.items() if k != "ROBOCACHE_NUM_THREADS"}
    e.update(env or {})
    out = subprocess.run([sys.executable, "-c", CALL + textwrap.dedent(code)], env=e, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_set_num_threads_overrides_and_zero_restores_the_default():
    default = robocache.get_num_threads()
    try:
        robocache.set_num_threads(3)
        assert robocache.get_num_threads() == 3
        assert robocache._threads.num_threads_reason() == "set_num_threads"
    finally:
        robocache.set_num_threads(0)
    assert robocache.get_num_threads() == default


def test_set_num_threads_rejects_bad_counts_naming_the_argument():
    with pytest.raises(ValueError, match="argument 'n'"):
        robocache.set_num_threads(-1)
    with pytest.raises(ValueError, match="argument 'n'"):
        robocache.set_num_threads(5000)
    with pytest.raises(TypeError, match="argument 'n'"):
        robocache.set_num_threads(2.0)


def test_a_main_process_uses_every_cpu_it_may_run_on():
    assert run("call(); print(robocache.get_num_threads(), robocache._threads.num_threads_reason())") == [
        str(len(os.sched_getaffinity(0))), "cpus"]


def test_environment_variable_sets_the_count():
    assert run("call(); print(robocache.get_num_threads())", {"ROBOCACHE_NUM_THREADS": "3"}) == ["3"]


def test_a_bad_environment_variable_is_a_named_error():
    out = run("""
        try:
            call()
        except Exception as e:
            print("ROBOCACHE_NUM_THREADS" in str(e))
        """, {"ROBOCACHE_NUM_THREADS": "many"})
    assert out == ["True"]


def test_a_forked_child_uses_one_thread_unless_it_asks():
    out = run("""
        import os
        robocache.set_num_threads(2)
        call()
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            call()
            first = robocache.get_num_threads()
            robocache.set_num_threads(2)
            call()
            os.write(w, f"{first} {robocache.get_num_threads()}".encode())
            os._exit(0)
        os.waitpid(pid, 0)
        print(os.read(r, 100).decode(), robocache.get_num_threads())
        """, {"ROBOCACHE_NUM_THREADS": "2"})
    assert out == ["1", "2", "2"]


@pytest.mark.parametrize("targets", [50, 5000])  # 5000: a call big enough to run without the GIL
def test_a_dataloader_worker_is_recognised_without_importing_torch(targets):
    # What the probe reads: torch.utils.data.get_worker_info() from sys.modules. A stand-in module
    # plays a worker here, so the rule is tested where torch is not installed.
    out = run(f"""
        import sys, types
        fake = types.ModuleType("torch.utils.data")
        fake.get_worker_info = lambda: object()
        sys.modules["torch.utils.data"] = fake
        d = np.ones((4, 100, 7), np.float32)
        robocache.resample_trajectories(d, np.arange(100.0), np.linspace(0, 99, {targets}))
        print(robocache._threads.num_threads_reason(), robocache.get_num_threads(), "torch" in sys.modules)
        """, {"ROBOCACHE_NUM_THREADS": "2"})
    assert out == ["worker", "1", "False"]


def test_a_real_dataloader_worker_uses_one_thread(tmp_path):
    pytest.importorskip("torch")
    script = tmp_path / "loader.py"  # a file, so spawned workers can import the dataset class
    script.write_text(CALL + textwrap.dedent("""
        import torch
        from torch.utils.data import DataLoader, Dataset
        class D(Dataset):
            def __len__(self): return 2
            def __getitem__(self, i):
                call()
                return robocache.get_num_threads()
        if __name__ == "__main__":
            for ctx in ("fork", "spawn"):
                loader = DataLoader(D(), batch_size=1, num_workers=2, multiprocessing_context=ctx)
                print(ctx, *[int(x) for b in loader for x in b])
        """))
    env = dict(os.environ, ROBOCACHE_NUM_THREADS="2")
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["fork", "1", "1", "spawn", "1", "1"]
