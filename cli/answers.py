"""What every `csp solve` shares: where its puzzles come from and how its answers go out.

Input: a FILE, `-` for standard input, or nothing at all while standard input is piped (not a terminal).
Output: each puzzle's answer as soon as it settles, in input order, in one of `FORMATS`, to stdout or (with
-o) to a file written whole at the end; Ctrl-C keeps what was printed and says how far it got.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from cli.common import WIDE, _Console, console, err_console, fail, progress, write_out
from puzzles.result import Result

FORMATS = ("line", "grid", "json", "csv")
GRID_AT_MOST = 5  # a file of at most this many puzzles is drawn by default (more: a line each)
CSV_HEADER = ("puzzle", "solution", "solved", "seconds")

Format = Annotated[str | None, typer.Option(
    "--format", help="How each answer is written as it settles: line (the kind's text form, which it reads back; a "
    "puzzle not solved is written as given), grid (drawn, with its status and time), json (one object a line; "
    "--json is the same), csv (puzzle,solution,solved,seconds). Default: grid for one puzzle or a file of at most "
    f"{GRID_AT_MOST}, line for more and for -o.")]
SkipInvalid = Annotated[bool, typer.Option(
    "--skip-invalid", help="A bad puzzle in the input is one warning on stderr (with its line) and skipped, the rest "
    "solved; a skipped puzzle counts as not solved in the exit code. Without it, one bad puzzle stops the command "
    "before any work (exit 2).")]
AnswersFile = Annotated[Path | None, typer.Option(
    "-o", "--output", help="Write the answers (in --format; default line) to this file instead of stdout, whole, once "
    "all are in (on Ctrl-C, those settled so far); the summary goes to stdout.")]

_err_wide = _Console(stderr=True)  # a table on stderr off a terminal: not cut at 80 columns


def stdin_piped() -> bool:
    """Whether standard input is open and not a terminal (a pipe, a file, /dev/null)."""
    stream = sys.stdin
    try:
        return stream is not None and not stream.closed and not stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def skipped(on: bool) -> tuple[Callable[[str], None] | None, list[str]]:
    """(the readers' on_error for --skip-invalid: each bad puzzle one warning line on stderr, as it is read;
    the messages); (None, []) without the flag: a bad puzzle is an error."""
    said: list[str] = []
    if not on:
        return None, said

    def warn(message: str) -> None:
        said.append(message)
        err_console.print(f"[yellow]warning:[/] skipped {escape(message)}", markup=True, highlight=False, soft_wrap=True)

    return warn, said


def check_format(fmt: str | None, json_out: bool) -> None:
    """One line and exit 2 for an unknown --format, or --json beside another format."""
    if fmt is not None and fmt not in FORMATS:
        raise fail(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if json_out and fmt not in (None, "json"):
        raise fail(f"--json is --format json; give --json or --format {fmt}, not both")


def pick_format(fmt: str | None, json_out: bool, count: int, single: bool, output: Path | None) -> str:
    """The format asked for, else: json for --json, line for -o, grid for one puzzle or a few, line for more."""
    check_format(fmt, json_out)
    if json_out:
        return "json"
    if fmt is not None:
        return fmt
    if output is not None:
        return "line"
    return "grid" if single or count <= GRID_AT_MOST else "line"


@dataclass
class Kind:
    """How a kind of puzzle's answers are written: `line(k, item, result)` its text form (the puzzle as given when
    unsolved), `draw(k, item, result)` what the grid format prints (renderables and markup lines), `gap` what goes
    between two answers in the line format ("" or a blank line). An item is a puzzle with its `source`."""

    line: Callable[[int, Any, Result], str]
    draw: Callable[[int, Any, Result], list]
    gap: str = ""


class Answers:
    """Where a solve's answers go, and the summary: stdout, or the -o file (written at the end)."""

    def __init__(self, kind: Kind, fmt: str, output: Path | None, single: bool) -> None:
        self.kind, self.fmt, self.output, self.single = kind, fmt, output, single
        self.written: list[str] = []  # for -o
        self.count = 0

    def summary_console(self) -> Console | None:
        """Where a file's summary goes: stdout when the answers do not (-o) or are drawn for people, stderr beside
        line or csv answers, nowhere beside JSON on stdout (as ever)."""
        if self.output is not None or self.fmt == "grid":
            return console
        return None if self.fmt == "json" else _err_wide

    def _emit(self, text: str) -> None:
        if self.output is not None:
            self.written.append(text)
        else:
            write_out(text)

    def _render(self, items: list) -> str:
        target = console if self.output is None else Console(file=io.StringIO(), width=WIDE, color_system=None,
                                                             force_terminal=False, highlight=False)
        with target.capture() as captured:
            for item in items:
                if isinstance(item, str):
                    target.print(item, highlight=False, soft_wrap=True)
                else:
                    target.print(item)
        return captured.get()

    def add(self, k: int, puzzle, r: Result) -> None:
        """Write the answer of the k-th puzzle (1-based), now."""
        if self.fmt == "csv":
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            if k == 1:
                w.writerow(CSV_HEADER)
            w.writerow([r.puzzle, r.solution or "", "true" if r.solved else "false", f"{r.seconds:.6f}"])
            text = buf.getvalue()
        elif self.fmt == "json":
            record = r.to_json() if self.single else {**r.to_json(), "source": getattr(puzzle, "source", "")}
            text = json.dumps(record) + "\n"
        elif self.fmt == "line":
            text = (self.kind.gap if k > 1 else "") + self.kind.line(k, puzzle, r) + "\n"
        else:
            text = self._render(self.kind.draw(0 if self.single else k, puzzle, r))  # k 0: the only one
        self._emit(text)
        self.count = k

    def finish(self, total: int, interrupted: bool = False) -> None:
        """Write the -o file (all the answers; on an interruption, those settled) and say so on stderr."""
        if self.output is None or (interrupted and not self.written):  # nothing settled: an old file stays as it was
            return
        from puzzles.files import write_text

        write_text(self.output, "".join(self.written))
        if not interrupted:
            err_console.print(f"wrote {self.count} answer{'s' if self.count != 1 else ''} to {self.output}",
                              highlight=False, markup=False, soft_wrap=True)


def interrupted(e: BaseException) -> bool:
    """Whether `e` is Ctrl-C (numba-compiled code hit by it reports a SystemError caused by it)."""
    if isinstance(e, KeyboardInterrupt):
        return True
    return isinstance(e, SystemError) and isinstance(e.__cause__ or e.__context__, KeyboardInterrupt)


def report(puzzles: list, stream: Iterable[Result], answers: Answers, label: str,
           after: Callable[[Any, Result], Result] | None = None) -> list[Result]:
    """Write each puzzle's answer as it settles (`stream`: the results in input order; `after(puzzle, result)`
    amends one), with
    a progress bar on stderr for more than one puzzle. Ctrl-C: the answers written stay, one line says how far it
    got, exit 130. Closing `stream` at the end (or on an error) stops an exact solver's workers."""
    results: list[Result] = []
    n = len(puzzles)
    bar = progress() if n > 1 else nullcontext()
    try:
        with bar as live:
            task = live.add_task(label, total=n, status="") if live is not None else None
            for k, (puzzle, r) in enumerate(zip(puzzles, stream), start=1):
                if after is not None:
                    r = after(puzzle, r)
                results.append(r)
                answers.add(k, puzzle, r)
                if live is not None:
                    live.update(task, advance=1, status=f"{sum(x.solved for x in results)}/{k} solved")
    except (KeyboardInterrupt, SystemError) as e:
        if not interrupted(e):
            raise
        _close(stream)
        answers.finish(n, interrupted=True)
        where = f"; the {len(results)} answers so far are in {answers.output}" if answers.output and results else ""
        raise fail(f"interrupted after {len(results)} of {n}{where}", 130) from None
    finally:
        _close(stream)
    answers.finish(n)
    return results


def _close(stream) -> None:
    close = getattr(stream, "close", None)
    if close is not None:
        close()
