"""Optional dependencies of robocache.io, imported only when a reader or tool needs them, so that
`import robocache` (and `import robocache.io`) stay fast and work without them."""

from __future__ import annotations

import importlib

# module -> the pip package that provides it (all in the `robocache[io]` extra)
_PACKAGES = {
    "mcap": "mcap",
    "mcap_ros2": "mcap-ros2-support",
    "pyarrow": "pyarrow",
    "av": "av",
    "rich": "rich",
    "matplotlib": "matplotlib",
    "pandas": "pandas",
    "torch": "torch",
}


class MissingDependency(ImportError):
    """An optional package that this part of robocache.io needs is not installed."""


def require(module: str, what: str):
    """Imports `module` or raises MissingDependency naming the package and what needs it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        pkg = _PACKAGES.get(module.split(".")[0], module)
        extra = "" if pkg == "torch" else " (or `pip install robocache[io]`)"
        raise MissingDependency(f"{what} needs the package '{pkg}': pip install {pkg}{extra} ({e})") from None
