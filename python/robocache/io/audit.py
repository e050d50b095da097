"""`robocache audit PATH`: how the clocks of a ROS 2 bag (MCAP) or a LeRobot v3 dataset were
recorded, and how much of each stream alignment can trust.

Prints a table (rich) with, per episode and stream: samples, estimated rate, jitter, the longest
interval, gaps longer than max_gap, duplicated and out-of-order stamps, and the share of targets
masked when aligned onto --rate (or --reference); writes a PNG of each topic's rate over time with
its gaps shaded (matplotlib); shows a progress bar while reading a large input.

Exit status: 0 read and audited, no problem found; 1 read and audited, some stream has gaps,
duplicates or out-of-order samples; 2 could not audit (a missing, corrupt or unsupported file,
a missing package, a bad argument), with a one-line message and no traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List

import numpy as np

EXIT_CLEAN, EXIT_PROBLEMS, EXIT_ERROR = 0, 1, 2
LARGE_BYTES = 8 << 20  # inputs above this get a progress bar (--progress forces it, --quiet hides it)
LARGE_EPISODES = 20


def register(sub) -> None:
    """Adds the `audit` subcommand to the `robocache` command's subparsers."""
    a = sub.add_parser("audit", help="timing audit of a ROS 2 bag (MCAP) or LeRobot dataset: table and PNG",
                       description=__doc__.split("\n\n")[1] + "\n\n" + __doc__.split("\n\n")[2])
    a.add_argument("path", help="an .mcap file or a LeRobot v3 dataset folder")
    a.add_argument("--png", help="where to write the plot (default: PATH's name + .audit.png, here)")
    a.add_argument("--no-png", action="store_true", help="do not write the plot")
    a.add_argument("--rate", type=float, default=30.0, help="reference rate in Hz for the masked share (default 30)")
    a.add_argument("--reference", help="a stream whose clock is the reference instead of --rate")
    a.add_argument("--clock", default="header", choices=["header", "log", "publish"],
                   help="MCAP: the header stamp (default) or when the recorder logged the message")
    a.add_argument("--topics", nargs="+", help="MCAP topics or LeRobot features to read (default: all)")
    a.add_argument("--max-gap", type=float, default=None,
                   help="seconds; an interval longer than this is a gap (default: 4 x the median interval)")
    a.add_argument("--tolerance", type=float, default=None, help="seconds; mask targets with no sample this near")
    bar = a.add_mutually_exclusive_group()
    bar.add_argument("--progress", action="store_true", help="show the progress bar whatever the input's size")
    bar.add_argument("--quiet", action="store_true", help="no progress bar")
    a.set_defaults(fn=cmd_audit)


def _size(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _read(args, console):
    """The episodes at args.path, with a progress bar when the input is large."""
    from ._deps import require
    from .sources import kind_of, read_log

    path = Path(args.path)
    kind = kind_of(path)
    show = args.progress or (not args.quiet and _size(path) > LARGE_BYTES)
    if kind == "lerobot" and not args.quiet and not show:
        from .lerobot_reader import lerobot_info

        show = int(lerobot_info(path).get("total_episodes", 0)) > LARGE_EPISODES
    if not show:
        return read_log(path, clock=args.clock, topics=args.topics)
    progress_mod = require("rich.progress", "the audit's progress bar")
    unit = "messages" if kind == "mcap" else "episodes"
    with progress_mod.Progress(*progress_mod.Progress.get_default_columns(), progress_mod.MofNCompleteColumn(),
                               console=console, transient=True) as bar:
        task = bar.add_task(f"reading {path.name} ({unit})", total=None)
        return read_log(path, clock=args.clock, topics=args.topics,
                        progress=lambda done, total: bar.update(task, completed=done, total=total))


def _fmt(x: float, digits: int = 1) -> str:
    return "-" if x != x else f"{x:.{digits}f}"


def table(reports, title: str):
    """The reports as a rich Table."""
    from ._deps import require

    rich_table = require("rich.table", "the audit table")
    t = rich_table.Table(title=title, show_lines=False)
    for col, just in (("episode", "left"), ("stream", "left"), ("samples", "right"), ("rate Hz", "right"),
                      ("jitter ms", "right"), ("longest ms", "right"), ("gaps", "right"), ("duplicates", "right"),
                      ("out of order", "right"), ("masked", "right")):
        t.add_column(col, justify=just)
    for r in reports:
        bad = lambda n: f"[bold red]{n}[/]" if n else "0"  # noqa: E731
        masked = "-" if r.masked != r.masked else f"{100 * r.masked:.1f}%"
        t.add_row(r.episode, r.stream, str(r.samples), _fmt(r.rate_hz), _fmt(r.jitter_ms, 2),
                  _fmt(r.max_interval_ms), bad(r.gaps), bad(r.duplicates), bad(r.out_of_order),
                  f"[yellow]{masked}[/]" if r.masked and r.masked == r.masked and r.masked > 0.05 else masked)
    return t


def plot(episodes, reports, png: Path, max_gap=None) -> None:
    """One panel per topic: its instantaneous rate (1 / interval) over time, gaps shaded."""
    from ._deps import require
    from .clocks import repair
    from .report import resolve_max_gap

    matplotlib = require("matplotlib", "the audit plot")
    matplotlib.use("Agg")
    plt = require("matplotlib.pyplot", "the audit plot")
    sources = []
    for ep in episodes:
        for s in ep.streams.values():
            if s.source not in sources:
                sources.append(s.source)
    fig, axes = plt.subplots(len(sources), 1, figsize=(10, 1.8 * len(sources) + 0.6), sharex=True, squeeze=False)
    for ax, src in zip(axes[:, 0], sources):
        for ep in episodes[:8]:
            s = next((s for s in ep.streams.values() if s.source == src), None)
            if s is None or len(s) < 2:
                continue
            start = min(int(x.times_ns.min()) for x in ep.streams.values() if len(x))
            c = repair(s.times_ns)
            t = (c.times_ns - start) / 1e9
            dt = np.diff(c.times_ns)
            ax.step(t[:-1], 1e9 / dt, where="post", lw=0.7, label=ep.name)
            gap_ns = resolve_max_gap("auto" if max_gap is None else max_gap, dt)
            if gap_ns is not None:
                for j in np.flatnonzero(dt > gap_ns):
                    ax.axvspan(t[j], t[j + 1], color="red", alpha=0.25)
        ax.set_ylabel("Hz")
        ax.set_title(src, fontsize=9, loc="left")
        ax.set_yscale("log")
    axes[-1, 0].set_xlabel("seconds from the episode start (red: gaps)")
    fig.tight_layout()
    fig.savefig(png, dpi=80)
    plt.close(fig)


def cmd_audit(args) -> int:
    """The `robocache audit` command; returns its exit status (see the module's doc)."""
    from ._deps import MissingDependency, require
    from .streams import LogReadError

    try:
        console_mod = require("rich.console", "robocache audit")
        out = console_mod.Console(width=None if sys.stdout.isatty() else 150)
        err = console_mod.Console(stderr=True)
        episodes = _read(args, err)
        from .alignment import report

        names: List[str] = []
        for ep in episodes:
            names += [n for n in ep.streams if n not in names]
        reference = args.reference or args.rate
        reports = []
        for ep in episodes:  # one episode at a time: each with its own streams
            mine = [n for n in names if n in ep.streams]
            reports += report(ep, reference, streams=mine, tolerance=args.tolerance,
                              max_gap=args.max_gap if args.max_gap is not None else "auto")
        title = (f"{args.path}: {len(episodes)} episode(s), masked share against "
                 f"{args.reference or f'{args.rate:g} Hz'}")
        out.print(table(reports, title))
        clocks = {(r.episode, r.source): r for r in reports}.values()  # a topic's streams share one clock
        problems = sum(r.problems for r in clocks)
        if not args.no_png:
            png = Path(args.png) if args.png else Path(Path(args.path).resolve().name + ".audit.png")
            plot(episodes, reports, png, args.max_gap)
            out.print(f"plot: {png}")
        out.print(f"{problems} problem(s) in {len(clocks)} clocks: {sum(r.gaps for r in clocks)} gaps, "
                  f"{sum(r.duplicates for r in clocks)} duplicates, "
                  f"{sum(r.out_of_order for r in clocks)} out-of-order samples")
        return EXIT_PROBLEMS if problems else EXIT_CLEAN
    except (LogReadError, MissingDependency, ValueError, OSError) as e:
        print(f"robocache audit: error: {e}", file=sys.stderr)
        return EXIT_ERROR
