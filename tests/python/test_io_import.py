"""`import robocache` stays light: it imports no part of robocache.io, and robocache.io imports
none of its optional packages until a call needs one."""

import subprocess
import sys

HEAVY = ("mcap", "mcap_ros2", "pyarrow", "av", "rich", "matplotlib", "pandas", "torch")


def loaded_after(statement: str) -> set:
    code = f"import sys\n{statement}\nprint(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_import_robocache_imports_neither_robocache_io_nor_its_packages():
    code = "import robocache, sys; print('robocache.io' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
    assert not loaded_after("import robocache") & set(HEAVY)


def test_import_robocache_io_and_its_cli_registration_import_no_optional_package():
    assert not loaded_after("import robocache.io\nimport robocache.cli\nrobocache.cli.build_parser()") & set(HEAVY)
