"""The `robocache` command: warm the kernel cache, look after it, and show what the JIT makes.

    robocache warmup MANIFEST --target sm_90 --target cpu [--jobs N]
    robocache cache stat|ls|verify|gc|clear
    robocache cache export FILE | robocache cache import FILE
    robocache compile SPEC --target T --emit source|ptx|cubin|ir|asm [-o FILE]
    robocache check
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

from ._native import _robocache as _native


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
    results = warmup(specs, targets, jobs=args.jobs, progress=not args.quiet)
    print(summary_table(results, len(specs)))
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
            raise SystemExit("robocache cache export: FILE is required")
        n = _native.cache_export(args.file)
        print(f"wrote {n} entries to {args.file} ({_human(os.path.getsize(args.file))})")
        return 0
    if action == "import":
        if not args.file:
            raise SystemExit("robocache cache import: FILE is required")
        n = _native.cache_import(args.file)
        print(f"imported {n} entries into {_native.cache_info()['dir']}")
        return 0
    raise SystemExit(f"unknown cache action {action}")


def cmd_compile(args) -> int:
    spec = args.spec
    if os.path.exists(spec):
        spec = Path(spec).read_text()
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
    w.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="compiles at a time")
    w.add_argument("--quiet", action="store_true", help="no progress bar")
    w.set_defaults(fn=cmd_warmup)

    c = sub.add_parser("cache", help="inspect and maintain the kernel cache (ROBOCACHE_CACHE_DIR)")
    c.add_argument("action", choices=["stat", "ls", "verify", "gc", "clear", "export", "import"])
    c.add_argument("file", nargs="?", help="bundle file for export/import")
    c.add_argument("--max-bytes", type=int, default=None, help="gc: size cap (default: the configured cap)")
    c.set_defaults(fn=cmd_cache)

    k = sub.add_parser("compile", help="compile one spec and print what the JIT made")
    k.add_argument("spec", help="spec as JSON text or a path to a JSON file")
    k.add_argument("--target", default="cpu")
    k.add_argument("--emit", default="source", choices=["source", "ptx", "cubin", "ir", "asm", "object"])
    k.add_argument("-o", "--output", help="write to a file instead of stdout")
    k.set_defaults(fn=cmd_compile)

    s = sub.add_parser("check", help="which backends work here, and why not")
    s.set_defaults(fn=cmd_check)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except (ValueError, RuntimeError, OSError) as e:
        print(f"robocache: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
