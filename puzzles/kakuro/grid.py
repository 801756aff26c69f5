"""Kakuro grids: the text form, the runs and their rules, verification.

Text form: one grid row per line, cells separated by whitespace, puzzles separated by blank lines:

    #     #     16\\  23\\
    #     17\\17 .     .
    \\23  .     .     .
    \\16  .     .     #

- `#` a blocked cell;
- `D\\R` a clue cell: D is the sum of the run below it, R of the run to its right; either side may be
  empty (`16\\`, `\\23`), not both (a cell without sums is `#`);
- `.` an empty cell, to fill with 1-9;
- a digit 1-9 a filled cell: a given in a puzzle, every white cell in an answer.

Lines starting with `%` are comments and are dropped (not `#`: a row may start with a blocked cell).
An answer is written in the same form, the digits in place of the dots.

The rules are standard Kakuro's: a run is a maximal horizontal (across) or vertical (down) line of
white cells; every run, even one cell long, is headed by a clue in the cell just before it (left of an
across run, above a down run) with a sum for its direction, and every sum heads a run. A run holds
different digits 1-9 (so at most 9 cells) adding up to its sum. A puzzle whose structure breaks these
rules, or whose sum no run of its length can meet (2 cells summing to 18), is refused at reading with
a PuzzleError naming the puzzle, its first line and the cell; so is one whose givens repeat a digit in
a run. Whether the digits can be completed is the oracle's question ("no solution").

Cells are (row, col), 0-based in code and 1-based in messages. Pure NumPy; never imports torch.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from puzzles.errors import PuzzleError

BLOCK, EMPTY, COMMENT = "#", ".", "%"
MAX_RUN = 9
_CLUE = re.compile(r"(\d*)\\(\d*)")

Cell = tuple[int, int]


def cell_name(cell: Cell) -> str:
    """`row 3, col 5` for the 0-based cell (2, 4)."""
    return f"row {cell[0] + 1}, col {cell[1] + 1}"


def sum_range(length: int) -> tuple[int, int]:
    """The least and greatest sum of `length` different digits 1-9."""
    return length * (length + 1) // 2, length * (19 - length) // 2


@dataclass(frozen=True)
class Run:
    """One run: its direction ("across" or "down"), its clue cell, its cells in order, their sum."""

    direction: str
    head: Cell
    cells: tuple[Cell, ...]
    total: int

    def describe(self) -> str:
        """`the across run of the clue at row 2, col 1` (what a message calls it)."""
        return f"the {self.direction} run of the clue at {cell_name(self.head)}"


@dataclass(frozen=True, eq=False)
class Kakuro:
    """One puzzle, or its answer when every white cell is filled.

    white: bool (H, W), the cells to fill; digits: int8 (H, W), 0 where empty or not white;
    across, down: int16 (H, W), the sums a clue cell gives (0: none, so a clue cell is a non-white cell
    with a sum). `runs` lists every run; a Kakuro built by `parse` (or `Kakuro.checked`) keeps the rules
    of the module's doc. `source` names where it came from and is not compared.
    """

    white: np.ndarray
    digits: np.ndarray
    across: np.ndarray
    down: np.ndarray
    source: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.white.shape)  # type: ignore[return-value]

    @cached_property
    def runs(self) -> list[Run]:
        return _runs(self.white, self.across, self.down)

    def with_digits(self, digits: np.ndarray) -> Kakuro:
        """The same grid with other digits (an answer, or more givens)."""
        return replace(self, digits=np.asarray(digits, dtype=np.int8))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Kakuro):
            return NotImplemented
        return self.shape == other.shape and all(
            bool((getattr(self, f) == getattr(other, f)).all()) for f in ("white", "digits", "across", "down"))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        h, w = self.shape
        return f"Kakuro({h}x{w}, {int(self.white.sum())} white, {int((self.digits > 0).sum())} filled)"

    @staticmethod
    def checked(white: np.ndarray, digits: np.ndarray, across: np.ndarray, down: np.ndarray, source: str = "") -> Kakuro:
        """A Kakuro from arrays, its structure checked as `parse` checks text (PuzzleError when broken)."""
        k = Kakuro(np.asarray(white, bool), np.asarray(digits, np.int8), np.asarray(across, np.int16),
                   np.asarray(down, np.int16), source)
        _check(k)
        return k


# ---------------------------------------------------------------- runs and rules


def _runs(white: np.ndarray, across: np.ndarray, down: np.ndarray) -> list[Run]:
    """Every run, across ones first (row-major), then down ones (column-major); PuzzleError for a run
    without a clue or longer than 9, or a sum no run of its length can meet."""
    runs = []
    for direction, grid, sums in (("across", white, across), ("down", white.T, down.T)):
        for line, cells in enumerate(grid):
            c = 0
            while c < len(cells):
                if not cells[c]:
                    c += 1
                    continue
                start = c
                while c < len(cells) and cells[c]:
                    c += 1
                run = [(line, k) if direction == "across" else (k, line) for k in range(start, c)]
                head = (line, start - 1) if direction == "across" else (start - 1, line)
                span = f"{cell_name(run[0])} to {cell_name(run[-1])}" if len(run) > 1 else cell_name(run[0])
                if start == 0 or not sums[line, start - 1]:
                    where, sum_ = ("left of", "an across") if direction == "across" else ("above", "a down")
                    raise PuzzleError(f"the {direction} run {span} has no clue (the cell {where} it needs {sum_} sum)")
                if len(run) > MAX_RUN:
                    raise PuzzleError(f"the {direction} run {span} has {len(run)} cells; a run has at most {MAX_RUN}")
                total = int(sums[line, start - 1])
                lo, hi = sum_range(len(run))
                if not lo <= total <= hi:
                    raise PuzzleError(f"the {direction} sum {total} at {cell_name(head)} cannot be met: {len(run)} "
                                      f"different digits add up to {lo}-{hi}")
                runs.append(Run(direction, head, tuple(run), total))
    return runs


def _check(k: Kakuro) -> None:
    """PuzzleError unless `k` keeps the structural rules (module doc) and its givens repeat no digit in a run."""
    h, w = k.shape
    if not k.white.any():
        raise PuzzleError("no white cells to fill")
    stray = np.argwhere(~k.white & (k.digits != 0))
    if len(stray):
        raise PuzzleError(f"{cell_name(tuple(stray[0]))} is not white but holds a digit")
    runs = k.runs
    for direction, sums, (dr, dc), where in (("across", k.across, (0, 1), "to its right"),
                                              ("down", k.down, (1, 0), "below it")):
        for r, c in np.argwhere(sums != 0).tolist():
            if k.white[r, c]:
                raise PuzzleError(f"{cell_name((r, c))} is white but has a {direction} sum")
            rr, cc = r + dr, c + dc
            if rr >= h or cc >= w or not k.white[rr, cc]:
                raise PuzzleError(f"the {direction} sum {int(sums[r, c])} at {cell_name((r, c))} has no run {where}")
    for run in runs:
        seen: dict[int, Cell] = {}
        for cell in run.cells:
            d = int(k.digits[cell])
            if d and d in seen:
                raise PuzzleError(f"{cell_name(seen[d])} and {cell_name(cell)} are both {d} in {run.describe()}")
            seen[d] = cell


# ---------------------------------------------------------------- text


def _token(tok: str, cell: Cell) -> tuple[str, int, int, int]:
    """(kind "block" / "clue" / "white", digit, down sum, across sum) of one cell's token."""
    if tok == BLOCK:
        return "block", 0, 0, 0
    if tok == EMPTY:
        return "white", 0, 0, 0
    if len(tok) == 1 and tok in "123456789":
        return "white", int(tok), 0, 0
    m = _CLUE.fullmatch(tok)
    if m is None:
        hint = " (a clue is D\\R, with a backslash)" if "/" in tok else ""
        raise PuzzleError(f"bad cell '{tok}' at {cell_name(cell)}: expected #, ., a digit 1-9 or a clue D\\R{hint}")
    down, across = m.groups()
    if not down and not across:
        raise PuzzleError(f"the clue at {cell_name(cell)} has no sum; a cell without sums is #")
    for side, text in (("down", down), ("across", across)):
        if text and not 1 <= int(text) <= 45:
            raise PuzzleError(f"the {side} sum {text} at {cell_name(cell)} is not 1-45")
    return "clue", 0, int(down or 0), int(across or 0)


def parse_rows(rows: list[str], checked: bool = True) -> Kakuro:
    """One puzzle from its rows (each a line of whitespace-separated cells); PuzzleError naming the cell
    when a token is malformed, the rows are ragged or (`checked`) a rule of the module doc is broken."""
    cells = [row.split() for row in rows]
    width = len(cells[0])
    for r, row in enumerate(cells):
        if len(row) != width:
            raise PuzzleError(f"row {r + 1} has {len(row)} cells, row 1 has {width}")
    shape = (len(cells), width)
    white, digits = np.zeros(shape, bool), np.zeros(shape, np.int8)
    down, across = np.zeros(shape, np.int16), np.zeros(shape, np.int16)
    for r, row in enumerate(cells):
        for c, tok in enumerate(row):
            kind, digits[r, c], down[r, c], across[r, c] = _token(tok, (r, c))
            white[r, c] = kind == "white"
    return Kakuro.checked(white, digits, across, down) if checked else Kakuro(white, digits, across, down)


def parse(text: str, checked: bool = True) -> Kakuro:
    """One puzzle from its text (comment and blank lines ignored); PuzzleError when it is not one (without
    `checked`, only when its tokens or rows are malformed: a wrong answer's grid reads too)."""
    rows = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith(COMMENT)]
    if not rows:
        raise PuzzleError("empty puzzle")
    return parse_rows(rows, checked)


def read_text(text: str, name: str = "<text>", on_error: Callable[[str], None] | None = None,
              limit: int | None = None) -> list[Kakuro]:
    """Every puzzle in `text` (blank lines between puzzles; a byte-order mark first and CRLF line ends are
    read as nothing). Errors name the text, the puzzle's number and its first line:
    `p.kakuro: puzzle 2 (line 9): row 3 has 4 cells, row 1 has 5`. With `on_error`, a bad puzzle's message
    goes there and the puzzle is skipped. `limit`: stop after that many puzzles."""
    puzzles: list[Kakuro] = []
    block: list[str] = []
    first = 0
    blocks = 0
    for n, line in enumerate([*text.removeprefix("\ufeff").splitlines(), ""], start=1):
        if limit is not None and len(puzzles) >= limit:
            break
        if line.lstrip().startswith(COMMENT):
            continue
        if line.strip():
            first = first if block else n
            block.append(line)
            continue
        if block:
            blocks += 1
            where = f"{name}: puzzle {blocks} (line {first})"
            try:
                puzzles.append(replace(parse_rows(block), source=where))
            except PuzzleError as e:
                if on_error is None:
                    raise PuzzleError(f"{where}: {e}") from None
                on_error(f"{where}: {e}")
            block = []
    if not puzzles:
        raise PuzzleError(f"{name}: no puzzles found")
    return puzzles


def read_file(path: str | Path, on_error: Callable[[str], None] | None = None, limit: int | None = None) -> list[Kakuro]:
    """Puzzles from a file (see `read_text`; the size bounds are `puzzles.files'`); `-` reads standard input."""
    from puzzles import files

    if str(path) == "-":
        return read_text(files.read_stdin(), name="<stdin>", on_error=on_error, limit=limit)
    return read_text(files.read_file(path), name=str(path), on_error=on_error, limit=limit)


def tokens(k: Kakuro) -> list[list[str]]:
    """Each cell's token."""
    out = []
    for r in range(k.shape[0]):
        row = []
        for c in range(k.shape[1]):
            if k.white[r, c]:
                row.append(str(int(k.digits[r, c])) if k.digits[r, c] else EMPTY)
            elif k.across[r, c] or k.down[r, c]:
                row.append(f"{int(k.down[r, c]) or ''}\\{int(k.across[r, c]) or ''}")
            else:
                row.append(BLOCK)
        out.append(row)
    return out


def to_text(k: Kakuro) -> str:
    """The rows, each column padded to its widest token (no final newline)."""
    grid = tokens(k)
    widths = [max(len(row[c]) for row in grid) for c in range(k.shape[1])]
    return "\n".join(" ".join(tok.ljust(w) for tok, w in zip(row, widths)).rstrip() for row in grid)


def write_text(puzzles: list[Kakuro]) -> str:
    """Puzzles separated by blank lines, with a final newline (what `read_text` reads back)."""
    return "\n\n".join(to_text(k) for k in puzzles) + "\n"


# ---------------------------------------------------------------- verification


def verify(k: Kakuro, digits: np.ndarray) -> str | None:
    """None when `digits` (int (H, W)) fills every white cell of `k` with 1-9, keeps its givens and makes
    every run's digits different with the run's sum; else why not."""
    digits = np.asarray(digits)
    if digits.shape != k.shape:
        return f"the answer has shape {digits.shape}, the puzzle {k.shape}"
    bad = k.white & ((digits < 1) | (digits > 9))
    if bad.any():
        return f"{cell_name(tuple(np.argwhere(bad)[0]))} is not filled with 1-9"
    stray = ~k.white & (digits != 0)
    if stray.any():
        return f"{cell_name(tuple(np.argwhere(stray)[0]))} is not white but holds a digit"
    changed = (k.digits != 0) & (digits != k.digits)
    if changed.any():
        return f"the given at {cell_name(tuple(np.argwhere(changed)[0]))} was changed"
    for run in k.runs:
        values = [int(digits[cell]) for cell in run.cells]
        if len(set(values)) != len(values):
            return f"{run.describe()} repeats a digit ({' '.join(map(str, values))})"
        if sum(values) != run.total:
            return f"{run.describe()} adds up to {sum(values)}, not {run.total}"
    return None
