"""Kakuro on the command line (`puzzles.contract.Terminal`): the text form drawn with its clues dim, the answers
written after a comment line with their status, the shipped model ordering a complete search (`hybrid`: never
wrong, every answer) as the default solver, and `csp generate kakuro --size RxC`. Pure Python and NumPy:
drawings are (text, style) pieces that cli/ turns into rich Text."""

from __future__ import annotations

import re

from puzzles.contract import Drawing, Generator, Option, Terminal
from puzzles.errors import UserError
from puzzles.kakuro import generator as gen
from puzzles.kakuro import grid
from puzzles.kakuro.grid import Kakuro


def draw(puzzle: Kakuro, answer: str | None) -> Drawing:
    """The text form for a terminal: clues dim, givens bold, the answer's digits cyan."""
    shown = grid.parse(answer, checked=False) if answer else puzzle
    rows = grid.tokens(shown)
    widths = [max(len(row[c]) for row in rows) for c in range(puzzle.shape[1])]
    out: Drawing = []
    for r, row in enumerate(rows):
        for c, tok in enumerate(row):
            style = ("bold white" if puzzle.digits[r, c] else "cyan") if puzzle.white[r, c] else "dim"
            out.append((tok if c == len(row) - 1 else tok.ljust(widths[c]), style))
            out.append((" " if c < len(row) - 1 else "", ""))
        if r < len(rows) - 1:
            out.append(("\n", ""))
    return out


def read(path: str, on_error, limit: int | None) -> list[tuple[Kakuro, str]]:
    return [(k, k.source) for k in grid.read_file(path, on_error=on_error, limit=limit)]


def size(text: str) -> tuple[int, int]:
    """(rows, cols) of RxC, or N for N x N; UserError unless both are sides a Kakuro may have."""
    m = re.fullmatch(r"\s*(\d+)\s*(?:[xX]\s*(\d+)\s*)?", text)
    if m is None:
        raise UserError(f"--size must be RxC (e.g. 10x12) or N, got {text!r}")
    rows = int(m.group(1))
    cols = int(m.group(2) or rows)
    gen.check_size(rows, cols)
    return rows, cols


def _make(n: int, seed: int, workers: int, options: dict):
    rows, cols = size(options["size"])
    return (k for k, _ in gen.generate(rows, cols, n, seed))


GENERATOR = Generator(
    help="""Generate Kakuro puzzles with exactly one solution (digits given where the clues alone leave a choice),
in the text form, separated by blank lines.

Examples:

csp generate kakuro --size 10x12 -n 5 -o puzzles.kakuro
csp generate kakuro --size 8 | csp solve kakuro --json""",
    make=_make,
    write=lambda made, options: grid.write_text(made),
    options=(
        Option("size", ("--size",), "8x8", "Rows x columns, the clue row and column included: RxC (e.g. 10x12) or N "
               f"for N x N; each {gen.MIN_SIDE} to {gen.MAX_SIDE}."),
    ),
    made="Kakuro puzzle",
)

TERMINAL = Terminal(
    help="""Solve Kakuro puzzles, each answer written as it settles; exit 0 if all are solved (and verified), 1 if any
is not (or was skipped), 2 on bad input, 130 on Ctrl-C.

Text form: one row per line, cells separated by spaces; # a blocked cell, D\\R a clue (the sum of the run
below, of the run to the right; either may be left out), . a cell to fill, 1-9 a given; lines starting
with % are comments. The line format writes each answer in the same form after a % line with its status.

The default (hybrid) is a complete search whose digit order comes from the shipped Kakuro model: it answers
every puzzle, says "no solution" or "more than one solution" as the exact oracle (cpsat) does, and never
returns an unverified grid. The model alone (--solver loopmdm) runs on any size and solves most small
puzzles but few large ones (docs/results/kakuro.md); its answers count only once the verifier accepts them.

Examples:

csp solve kakuro puzzles/data/sample.kakuro
csp generate kakuro -n 10 --size 10x12 | csp solve kakuro --json > answers.jsonl""",
    read=read,
    file_help="Kakuro file (puzzles separated by blank lines), or - for stdin; nothing: the piped standard input.",
    items="Kakuro puzzles",
    solver="hybrid",  # the model alone misses too many to be the default (docs/results/kakuro.md)
    draw=draw,
    comment=grid.COMMENT,
    bench="gen:kakuro:100:size=8:seed=1",
    generator=GENERATOR,
)
