"""Fenced code blocks of Markdown pages, and the shell commands of a bash block.

Used by test_docs.py. Programs built from blocks keep every line at the line number it has in the
Markdown file (the gaps are blank lines), so a traceback or `$LINENO` names the docs line itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# CommonMark: a fence is 3+ backticks or tildes, indented by at most 3 spaces (more inside a list
# item, which we accept too); it closes with the same character, at least as many times.
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@dataclass(frozen=True)
class Block:
    """One fenced block: its info string (e.g. "python torch"), first code line (1-based) and code."""

    path: Path
    info: str
    line: int
    code: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def blocks_of(path: Path, text: str) -> list[Block]:
    """Every fenced block of a Markdown text, in order. An unclosed fence runs to the end of the
    text, as in CommonMark."""
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m or (m["fence"][0] == "`" and "`" in m["info"]):
            i += 1
            continue
        fence, indent = m["fence"], len(m["indent"])
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        start, i = i + 1, i + 1
        while i < len(lines) and not closing.match(lines[i]):
            i += 1
        body = [ln[indent:] if ln[:indent].strip() == "" else ln.lstrip() for ln in lines[start:i]]
        out.append(Block(path, " ".join(m["info"].split()), start + 1, "\n".join(body)))
        i += 1
    return out


def line_aligned(blocks: list[Block]) -> str:
    """The blocks' code as one program whose line N is line N of the Markdown file."""
    lines: list[str] = []
    for b in blocks:
        lines += [""] * (b.line - 1 - len(lines))
        lines += b.code.splitlines()
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Command:
    """One shell command: its continuation lines joined, its first line's number in the docs file,
    how many lines it spans, and `text` (the command without comments or repeated spaces)."""

    line: int
    span: int
    source: str
    text: str


def _strip_comment(line: str) -> str:
    """The line without a `#` comment; `#` inside quotes or inside a word (`a#b`) is not one."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def commands_of(block: Block) -> list[Command]:
    """The commands of a bash block: `\\` continuations joined, comments and blank lines dropped."""
    out, pending, first = [], [], 0
    raw = block.code.splitlines()
    for offset, line in enumerate(raw):
        code = _strip_comment(line).rstrip()
        if not pending:
            first = offset
        if code.endswith("\\"):
            pending.append(code[:-1])
            continue
        pending.append(code)
        text = " ".join(" ".join(pending).split())
        if text:
            out.append(Command(block.line + first, offset - first + 1, "\n".join(raw[first:offset + 1]), text))
        pending = []
    if pending and " ".join(pending).strip():
        raise ValueError(f"{block.where}: the block ends inside a '\\' continuation")
    return out
