"""The `robocache` command: warm the kernel cache, look after it, and show what the JIT makes.

    robocache warmup MANIFEST --target sm_90 --target cpu [--jobs N]
    robocache cache stat|ls|verify|gc|clear
    robocache cache export FILE | robocache cache import FILE
    robocache compile SPEC --target T --emit source|ptx|cubin|ir|asm [-o FILE]
    robocache tune MANIFEST --shapes FILE [--target T] [--repeats N] [--quiet]
    robocache tuning ls|path|clear | robocache tuning export FILE | robocache tuning import FILE
    robocache check
    robocache audit PATH [--png FILE] [--rate HZ | --reference STREAM]

Exit status (docs/reliability.md):
    0   success
    1   the command ran and found a failure: a spec failed to compile in `warmup`, `cache verify`
        found invalid entries, `tune` tuned nothing
    2   invalid input: command-line arguments, spec, manifest, shapes or bundle file
    3   the environment refused: a file or folder that cannot be read or written, a refused cache
        directory, an unavailable backend, not enough memory
    4   a compile failed (`compile`), or strict cache mode had no kernel
    70  an internal error (a bug in RoboCache: please report it with the traceback)
    130 interrupted
Errors are one line on stderr, "robocache: error: ..."; a traceback is printed for exit status 70 only.
`robocache audit` keeps its own statuses (robocache/io/audit.py: 0 clean, 1 problems, 2 could not audit).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
import traceback
from pathlib import Path

from ._native import _robocache as _native


EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_ENVIRONMENT, EXIT_COMPILE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 70, 130


def _count(minimum: int, what: str):
    """An argparse type: an integer >= minimum (argparse turns the ValueError into a usage error)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {_shown(text)!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
        return value

    return parse


def _shown(text: str, limit: int = 40) -> str:
    """A user string as it appears in a message: escaped, and cut to `limit` characters."""
    escaped = text.encode("ascii", "backslashreplace").decode("ascii")
    escaped = "".join(c if c.isprintable() else repr(c)[1:-1] for c in escaped)
    return escaped if len(escaped) <= limit else f"{escaped[:limit]}... ({len(text)} characters)"


def _human(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def cmd_warmup(args) -> int:
    from .manifest import load_manifest
    from .warmup import summary_table, warmup

    specs = load_manifest(args.manifest)
    targets = args.target or ["cpu"]
    info = _native.cache_info()
    print(f"warmup: {len(specs)} specs x {len(targets)} targets into {info['dir']} ({args.jobs} jobs)",
          file=sys.stderr)
    t0 = time.perf_counter()
    results = warmup(specs, targets, jobs=args.jobs, progress=not args.quiet)
    wall = time.perf_counter() - t0
    print(summary_table(results, len(specs)))
    compiled, cached = sum(r.compiled for r in results), sum(r.cached for r in results)
    failed = sum(len(r.failed) for r in results)
    print(f"warmup: {compiled} compiled, {cached} cached, {failed} failed in {wall:.2f} s ({args.jobs} jobs)",
          file=sys.stderr)
    return 1 if any(r.failed for r in results) else 0


def cmd_cache(args) -> int:
    action = args.action
    if action == "stat":
        info = _native.cache_info()
        entries = _native.cache_entries(False)
        print(f"directory   {info['dir']}")
        print(f"mode        {info['mode']}")
        print(f"bundles     {', '.join(info['bundles']) or '-'}")
        print(f"entries     {len(entries)}")
        print(f"size        {_human(info['size_bytes'])} of {_human(info['max_bytes'])} cap")
        return 0
    if action == "ls":
        entries = _native.cache_entries(True)
        for e in entries:
            used = datetime.datetime.fromtimestamp(e["last_used_ns"] / 1e9).strftime("%Y-%m-%d %H:%M")
            what = e["spec"] if e["valid"] else f"INVALID: {e['problem']}"
            print(f"{e['key'][:16]}  {e['target']:<6} {e['format']:<10} {_human(e['bytes']):>9}  {used}  {what}")
        print(f"{len(entries)} entries", file=sys.stderr)
        return 0
    if action == "verify":
        entries = _native.cache_entries(True)
        bad = [e for e in entries if not e["valid"]]
        for e in bad:
            print(f"bad entry {e['path']}: {e['problem']}")
        print(f"{len(entries) - len(bad)} valid, {len(bad)} invalid"
              + (" (run `robocache cache gc` to remove them)" if bad else ""))
        return 1 if bad else 0
    if action == "gc":
        r = _native.cache_gc(args.max_bytes)
        print(f"removed {r['bad_removed']} invalid entries, evicted {r['evicted']} least recently used, "
              f"removed {r['stale_removed']} stale temp/lock files")
        return 0
    if action == "clear":
        print(f"removed {_native.cache_clear()} entries from {_native.cache_info()['dir']}")
        return 0
    if action == "export":
        if not args.file:
            raise ValueError("robocache cache export: FILE is required")
        n = _native.cache_export(args.file)
        print(f"wrote {n} entries to {args.file} ({_human(os.path.getsize(args.file))})")
        return 0
    if action == "import":
        if not args.file:
            raise ValueError("robocache cache import: FILE is required")
        n = _native.cache_import(args.file)
        print(f"imported {n} entries into {_native.cache_info()['dir']}")
        return 0
    raise ValueError(f"unknown cache action {_shown(action)}")


def cmd_compile(args) -> int:
    spec = args.spec
    if os.path.exists(spec):
        try:
            spec = Path(spec).read_text(encoding="utf-8-sig")  # a byte-order mark some editors write is dropped
        except UnicodeDecodeError as e:
            raise ValueError(f"spec file {args.spec}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    k = _native.compile(spec, args.target)
    if args.emit in ("source", "ir"):
        out = k.source.encode()
    elif args.emit in ("cubin", "object"):
        out = k.binary
    else:
        out = _native.emit(spec, args.target, args.emit).encode()
    if args.output:
        Path(args.output).write_bytes(out)
        print(f"wrote {len(out)} bytes ({args.emit}) to {args.output}; key {k.key}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(out)
    return 0


def cmd_tune(args) -> int:
    from .manifest import load_manifest
    from .tuning import tune
    from .tuning_inputs import example_args, load_shapes

    specs = load_manifest(args.manifest)
    shapes = load_shapes(args.shapes)
    tuned = 0
    for spec in specs:
        spec_json = json.dumps(spec)
        if spec["op"] not in shapes:
            print(f"tune: no shapes for op '{spec['op']}' in {args.shapes}; skipped {spec_json}", file=sys.stderr)
            continue
        device = "cpu" if _native.tuning_key(spec_json, args.target)["target"] == "cpu" else "cuda"
        calls = [example_args(spec, s, device, seed=i) for i, s in enumerate(shapes[spec["op"]])]
        result = tune(spec, calls, args.target, repeats=args.repeats, progress=not args.quiet)
        print(f"{spec_json} on {result.target}: best {result.best_us:.1f} µs, heuristic "
              f"{result.heuristic_us:.1f} µs ({result.heuristic_us / result.best_us:.2f}x)")
        print(result.table())
        print()
        tuned += 1
    where = _native.tuning_path() or "memory only"
    print(f"tuned {tuned} of {len(specs)} specs; tuning database: {where}", file=sys.stderr)
    return 0 if tuned else 1


def cmd_tuning(args) -> int:
    from . import tuning

    if args.action == "path":
        print(tuning.tuning_path() or "(none: kept in memory only)")
        return 0
    if args.action == "ls":
        entries = tuning.tuning_entries()
        for e in entries:
            best_us = min((t["median_us"] for t in e["timings"] if t["config"] == e["best"]), default=float("nan"))
            print(f"{e['target']:<6} sm={e['sm_count']:<4} {e['heuristic_us']:>10.1f} -> {best_us:>10.1f} µs  "
                  f"{e['date']}  {e['spec']}  best={json.dumps(e['best'], sort_keys=True)}")
        print(f"{len(entries)} entries in {tuning.tuning_path() or 'memory'}", file=sys.stderr)
        return 0
    if args.action == "clear":
        print(f"removed {tuning.clear_tuning()} tuning entries")
        return 0
    if not args.file:
        raise ValueError(f"robocache tuning {args.action}: FILE is required")
    if args.action == "export":
        print(f"wrote {tuning.export_tuning(args.file)} tuning entries to {args.file}")
        return 0
    print(f"imported {tuning.import_tuning(args.file)} tuning entries into {tuning.tuning_path() or 'memory'}")
    return 0


def cmd_check(args) -> int:
    from ._status import check_installation

    print(json.dumps(check_installation(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="robocache", description="RoboCache kernel cache and JIT tools")
    sub = p.add_subparsers(dest="command", required=True)

    w = sub.add_parser("warmup", help="compile every spec of a manifest for the given targets")
    w.add_argument("manifest", help="JSON manifest (see robocache.manifest)")
    w.add_argument("--target", action="append", help="cpu, cuda or an arch like sm_90 (repeatable)")
    w.add_argument("--jobs", type=_count(1, "a positive number of jobs"), default=os.cpu_count() or 1,
                   help="compiles at a time (>= 1)")
    w.add_argument("--quiet", action="store_true", help="no progress bar")
    w.set_defaults(fn=cmd_warmup)

    c = sub.add_parser("cache", help="inspect and maintain the kernel cache (ROBOCACHE_CACHE_DIR)")
    c.add_argument("action", choices=["stat", "ls", "verify", "gc", "clear", "export", "import"])
    c.add_argument("file", nargs="?", help="bundle file for export/import")
    c.add_argument("--max-bytes", type=_count(0, "a byte count >= 0"), default=None,
                   help="gc: size cap (default: the configured cap)")
    c.set_defaults(fn=cmd_cache)

    k = sub.add_parser("compile", help="compile one spec and print what the JIT made")
    k.add_argument("spec", help="spec as JSON text or a path to a JSON file")
    k.add_argument("--target", default="cpu")
    k.add_argument("--emit", default="source", choices=["source", "ptx", "cubin", "ir", "asm", "object"])
    k.add_argument("-o", "--output", help="write to a file instead of stdout")
    k.set_defaults(fn=cmd_compile)

    t = sub.add_parser("tune", help="tune every spec of a manifest on synthetic inputs of the given shapes")
    t.add_argument("manifest", help="JSON manifest (see robocache.manifest)")
    t.add_argument("--shapes", required=True, help="JSON shapes file (see robocache.tuning_inputs)")
    t.add_argument("--target", default="auto", help="auto, cpu, cuda or an arch like sm_90 (default auto)")
    t.add_argument("--repeats", type=_count(1, "a positive number of repeats"), default=None,
                   help="timed calls per config and shape (default: adaptive)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(fn=cmd_tune)

    d = sub.add_parser("tuning", help="inspect and ship the tuning database (ROBOCACHE_TUNING_DB)")
    d.add_argument("action", choices=["ls", "path", "export", "import", "clear"])
    d.add_argument("file", nargs="?", help="file for export/import")
    d.set_defaults(fn=cmd_tuning)

    s = sub.add_parser("check", help="which backends work here, and why not")
    s.set_defaults(fn=cmd_check)

    from .io.audit import register as register_audit  # robocache.io's timing audit (imports nothing heavy)

    register_audit(sub)
    return p


def _exit_status(e: BaseException) -> int:
    """The documented exit status for an exception a command raised (see the module doc)."""
    if isinstance(e, (_native.CompileError, _native.CacheMissError)):
        return EXIT_COMPILE
    if isinstance(e, (ValueError, TypeError)):  # bad specs, manifests, arguments, bundles (SpecError too)
        return EXIT_INVALID
    if isinstance(e, (OSError, MemoryError, RuntimeError)):  # files, disk, backends, memory
        return EXIT_ENVIRONMENT
    return EXIT_INTERNAL


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)  # usage errors exit 2 with argparse's message
    try:
        return args.fn(args)
    except KeyboardInterrupt:
        print("robocache: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:  # noqa: BLE001 - every error ends in one line and a documented status
        status = _exit_status(e)
        if status == EXIT_INTERNAL:
            traceback.print_exc()
            print(f"robocache: internal error ({type(e).__name__}): {e}; please report it with the traceback "
                  f"above", file=sys.stderr)
            return status
        what = "out of memory" if isinstance(e, MemoryError) else str(e) or type(e).__name__
        if isinstance(e, OSError) and e.filename is not None and e.strerror:
            what = f"{e.filename}: {e.strerror}"
        print(f"robocache: error: {what}", file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
