"""Imports the compiled extension with an error that says how to build it."""

try:
    from . import _robocache  # noqa: F401
except ImportError as e:  # pragma: no cover - only when the extension was never built
    raise ImportError(
        "robocache's native extension (_robocache) is not built or cannot be loaded: "
        f"{e}. Build it with `bash scripts/setup.sh` (see README.md)."
    ) from e
