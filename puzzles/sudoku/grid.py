"""9x9 Sudoku: the grid, parsing, formats, verification.

A grid is an int8 NumPy array of 81 cells in row-major order, 0 for a blank.
Pure NumPy (plus the compiled search in `search`); never imports torch.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from puzzles.errors import PuzzleError
from puzzles.sudoku.search import search

CELLS = 81

_BLANKS = set(".0_")
_SEPARATORS = set("|-+!")


def _units() -> list[list[int]]:
    rows = [[r * 9 + c for c in range(9)] for r in range(9)]
    cols = [[r * 9 + c for r in range(9)] for c in range(9)]
    boxes = [[(br * 3 + r) * 9 + bc * 3 + c for r in range(3) for c in range(3)] for br in range(3) for bc in range(3)]
    return rows + cols + boxes


UNITS = np.array(_units(), dtype=np.int64)  # (27, 9): rows, columns, boxes
ROW = np.arange(CELLS) // 9
COL = np.arange(CELLS) % 9
BOX = (ROW // 3) * 3 + COL // 3
PEERS = np.array(
    [sorted({j for u in UNITS if i in u for j in u} - {i}) for i in range(CELLS)], dtype=np.int64
)  # (81, 20): each cell's peers in its row, column and box


def cell_name(i: int) -> str:
    return f"r{i // 9 + 1}c{i % 9 + 1}"


@dataclass(frozen=True)
class Sudoku:
    """A puzzle as read from text: its givens, and its solution when the source had one."""

    givens: np.ndarray  # int8[81], 0 = blank
    solution: np.ndarray | None = None
    source: str = ""
    rating: int | None = None


# ---------------------------------------------------------------- parsing


def parse(text: str) -> np.ndarray:
    """Read one puzzle from text: 81 cells, blanks `.`, `0` or `_`.

    Whitespace, line breaks and grid separators (`|`, `!`, `-`, `+`) are ignored.
    Raises PuzzleError naming a bad character and its position, a wrong length,
    or the cells of conflicting givens.
    """
    cells: list[int] = []
    for pos, ch in enumerate(text, start=1):
        if ch.isspace() or ch in _SEPARATORS:
            continue
        if ch in _BLANKS:
            cells.append(0)
        elif "1" <= ch <= "9":
            cells.append(int(ch))
        else:
            raise PuzzleError(f"bad character {ch!r} at position {pos} (expected 1-9 or a blank . 0 _)")
    if len(cells) != CELLS:
        rows = _spaced_rows(text)
        if rows is None:
            raise PuzzleError(f"a Sudoku has 81 cells, got {len(cells)}")
        cells = [0 if ch in _BLANKS or ch == " " else int(ch) for row in rows for ch in row]
    grid = np.array(cells, dtype=np.int8)
    check_givens(grid)
    return grid


def _spaced_rows(text: str) -> list[str] | None:
    """The 9 rows of a pasted 9-line grid whose blanks are spaces (`53  7    `, maybe with `|` between
    boxes and rule lines of - and +), each 9 characters; None when the text is not such a grid."""
    rows = [line.replace("|", "").rstrip("\r") for line in text.strip("\n").split("\n")]
    rows = [row for row in rows if not (row.strip() and set(row.strip()) <= set("-+ "))]  # rule lines go
    if len(rows) != 9 or any(len(row.rstrip()) > 9 for row in rows):
        return None
    rows = [row.rstrip().ljust(9) for row in rows]
    if any(not (ch in _BLANKS or ch == " " or "1" <= ch <= "9") for row in rows for ch in row):
        return None
    return rows


def conflicts(grid: np.ndarray) -> list[tuple[int, int, int]]:
    """Pairs of filled cells (i, j, digit), i < j, that share a unit and a digit."""
    out = []
    for i in range(CELLS):
        d = grid[i]
        if d:
            for j in PEERS[i]:
                if j > i and grid[j] == d:
                    out.append((i, int(j), int(d)))
    return out


def check_givens(grid: np.ndarray) -> None:
    """Raise PuzzleError if two givens clash, naming the first clash."""
    clash = conflicts(grid)
    if clash:
        i, j, d = clash[0]
        more = f" (and {len(clash) - 1} more conflicts)" if len(clash) > 1 else ""
        raise PuzzleError(f"givens conflict: {cell_name(i)} and {cell_name(j)} are both {d}{more}")


def to_string(grid: np.ndarray, blank: str = ".") -> str:
    """The 81-character form."""
    return "".join(str(int(d)) if d else blank for d in grid)


def _parse_line(line: str, where: str) -> Sudoku:
    fields = line.replace(",", " ").split()
    try:
        if len(fields) == 1 or len(fields) == 2:
            givens = parse(fields[0])
            solution = parse(fields[1]) if len(fields) == 2 else None
        else:
            givens = parse(line)  # a grid with spaces between cells
            solution = None
    except PuzzleError as e:
        raise PuzzleError(f"{where}: {e}") from None
    if solution is not None:
        _check_solution_field(givens, solution, where)
    return Sudoku(givens, solution, source=where)


def _check_solution_field(givens: np.ndarray, solution: np.ndarray, where: str) -> None:
    problem = verify(givens, solution)
    if problem:
        raise PuzzleError(f"{where}: the solution field is wrong: {problem}")


# The columns a CSV header may name: the puzzle's (Sudoku-Extreme's `question`, Kaggle's `quizzes`, ...) and
# the solution's (optional). A header is the first line that is neither blank nor a comment.
PUZZLE_COLUMNS = ("question", "puzzle", "quizzes", "quiz", "puzzles")
SOLUTION_COLUMNS = ("answer", "solution", "solutions", "answers")

_RULE_CHARS = set("-+|!*=:")  # a line of only these (and spaces) draws a grid's rule: `------+-------`, `*---*`
_ROW_CELLS = set("0123456789._")
_ROW_MOST = 40  # characters in a grid's row or rule line at most (`| 5 3 . | . 7 . | . . . |` has 25)

OnError = Callable[[str], None]


def read_text(text: str, name: str = "<text>", on_error: OnError | None = None, limit: int | None = None) -> list[Sudoku]:
    """Puzzles from text, in the forms people have:

    - one puzzle per line, 81 cells (blanks . 0 _; spaces and | - + ! between cells are ignored), an optional
      second field (after a space or comma) its solution;
    - a grid of 9 lines of 9 cells per puzzle, grids separated by blank lines or not: the `.sdk` form (digits
      and dots), the `.ss` form (| or ! between boxes, lines of - between bands), boxed grids (`|---+---|`,
      `*-----*`), cells separated by spaces; a `[Puzzle]` section line is skipped;
    - CSV with a header naming the puzzle column (question, puzzle, quizzes) and optionally the solution's
      (answer, solution, solutions), a `source` and a `rating`: Sudoku-Extreme's, Kaggle's `quizzes,solutions`.

    Blank lines and `#` comments (`.sdk` header lines) are skipped; a byte-order mark first and CRLF line ends
    are read as nothing. A bad puzzle is a PuzzleError naming its line (`name:LINE: ...`), or, with
    `on_error`, is passed there as that message and skipped. `limit`: stop after that many puzzles.
    """
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")), "")
    if _csv_header(first):
        puzzles = _read_csv(text, name, on_error, limit)
    elif on_error is not None:
        puzzles = _read_lines(lines, name, on_error, limit)
    else:
        try:
            puzzles = _read_lines(lines, name, on_error, limit)
        except PuzzleError:
            puzzles = _one_grid(lines, name)  # one pasted grid whose blanks are spaces, say
            if puzzles is None:
                raise
    if not puzzles:
        raise PuzzleError(f"{name}: no puzzles found")
    return puzzles


def _one_grid(lines: list[str], name: str) -> list[Sudoku] | None:
    """The whole text (comments left out) as one puzzle, as `parse` reads a pasted grid; None if it is not one."""
    kept = [ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    try:
        return [Sudoku(parse("\n".join(kept)), source=f"{name}:{lines.index(kept[0]) + 1}")] if kept else None
    except PuzzleError:
        return None


def _raise(message: str) -> None:
    raise PuzzleError(message)


def _csv_header(line: str) -> bool:
    """Whether `line` is a CSV header: it names a puzzle column, or it is two or more words (a puzzle has no
    letters), which then is one error naming the columns it may have."""
    names = [f.strip().strip('"').strip().lower() for f in line.split(",")]
    if set(names) & set(PUZZLE_COLUMNS):
        return True
    return len(names) > 1 and all(re.fullmatch(r"[a-z0-9_ ]*[a-z][a-z0-9_ ]*", n) for n in names)


def _read_lines(lines: list[str], name: str, on_error: OnError | None, limit: int | None) -> list[Sudoku]:
    bad = on_error or _raise
    puzzles: list[Sudoku] = []
    rows: list[str] = []  # the rows read so far of a 9-line grid
    start = 0  # the line its first row is on
    skip = 0  # rows left of a grid already reported bad

    def unfinished() -> None:
        if rows:
            bad(f"{name}:{start}: a grid of {len(rows)} row{'s' if len(rows) != 1 else ''}; a Sudoku grid has 9")
        rows.clear()

    for n, raw in enumerate(lines, start=1):
        if limit is not None and len(puzzles) >= limit:
            break
        line = raw.split("#", 1)[0].strip()
        if not line:
            unfinished()
            skip = 0
            continue
        cells = ""
        if len(line) <= _ROW_MOST:  # a puzzle on one line is longer: it is read as one at once
            if set(line) <= _RULE_CHARS | {" ", "\t"} or (line.startswith("[") and line.endswith("]")):
                continue  # a rule line, a [Puzzle] section
            cells = "".join(ch for ch in line if not (ch.isspace() or ch in _SEPARATORS))
            if len(cells) == 9 and set(cells) <= _ROW_CELLS:
                if skip:
                    skip -= 1
                    continue
                if not rows:
                    start = n
                rows.append(cells)
                if len(rows) == 9:
                    where = f"{name}:{start}"
                    rows_text = "".join(rows)
                    rows.clear()
                    try:
                        puzzles.append(Sudoku(parse(rows_text), source=where))
                    except PuzzleError as e:
                        bad(f"{where}: {e}")
                continue
        if rows:  # in a grid, a line that is not a row of 9 cells
            cells = cells or "".join(ch for ch in line if not (ch.isspace() or ch in _SEPARATORS))
            odd = next((ch for ch in cells if ch not in _ROW_CELLS), None)
            why = (f"bad character {odd!r} in a grid row (expected 1-9 or a blank . 0 _)" if odd is not None
                   else f"a grid row has 9 cells, got {len(cells)}")
            skip = 8 - len(rows)  # the rest of this grid goes with it
            rows.clear()
            bad(f"{name}:{n}: {why}")
            continue
        skip = 0
        try:
            puzzles.append(_parse_line(line, f"{name}:{n}"))
        except PuzzleError as e:
            bad(str(e))
    if limit is None or len(puzzles) < limit:
        unfinished()
    return puzzles


def _read_csv(text: str, name: str, on_error: OnError | None = None, limit: int | None = None) -> list[Sudoku]:
    # The header is the first line that is neither blank nor a comment (as read_text
    # found it); its names are matched without regard to case or spaces.
    bad = on_error or _raise
    lines = text.splitlines(keepends=True)
    skip = next(k for k, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#"))
    reader = csv.DictReader(io.StringIO("".join(lines[skip:]), newline=""))
    puzzles = []
    try:
        reader.fieldnames = [(f or "").strip().lower() for f in reader.fieldnames or []]
        column = next((c for c in PUZZLE_COLUMNS if c in reader.fieldnames), None)
        if column is None:
            raise PuzzleError(f"{name}:{skip + 1}: the CSV header names no puzzle column ({', '.join(PUZZLE_COLUMNS)})")
        answers = next((c for c in SOLUTION_COLUMNS if c in reader.fieldnames), None)
        for row in reader:
            if limit is not None and len(puzzles) >= limit:
                break
            where = f"{name}:{reader.line_num + skip}"
            try:
                givens = parse(row[column] or "")
                answer = (row.get(answers) or "").strip() if answers else ""
                solution = parse(answer) if answer else None
                rating = int(row["rating"]) if (row.get("rating") or "").strip() else None
            except (PuzzleError, ValueError, TypeError) as e:
                bad(f"{where}: {e}")
                continue
            if solution is not None:
                try:
                    _check_solution_field(givens, solution, where)
                except PuzzleError as e:
                    bad(str(e))
                    continue
            puzzles.append(Sudoku(givens, solution, source=row.get("source") or where, rating=rating))
    except csv.Error as e:
        raise PuzzleError(f"{name}:{reader.line_num + skip}: {e}") from None
    return puzzles


def read_file(path: str | Path, on_error: OnError | None = None, limit: int | None = None) -> list[Sudoku]:
    """Puzzles from a file (see `read_text`; the size bounds are `puzzles.files`'); `-` is not handled here."""
    from puzzles import files

    return read_text(files.read_file(path), name=str(path), on_error=on_error, limit=limit)


def write_lines(puzzles: list[Sudoku]) -> str:
    """One puzzle per line, the solution as a second field when known."""
    lines = []
    for s in puzzles:
        line = to_string(s.givens)
        if s.solution is not None:
            line += " " + to_string(s.solution)
        lines.append(line)
    return "\n".join(lines) + "\n"


def write_csv(puzzles: list[Sudoku]) -> str:
    """The Sudoku-Extreme CSV form."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["source", "question", "answer", "rating"])
    for s in puzzles:
        answer = to_string(s.solution) if s.solution is not None else ""
        w.writerow([s.source, to_string(s.givens), answer, "" if s.rating is None else s.rating])
    return buf.getvalue()


# ---------------------------------------------------------------- verification


def verify(puzzle: np.ndarray, solution: np.ndarray) -> str | None:
    """None when `solution` is a complete valid grid that keeps every given; else the reason."""
    solution = np.asarray(solution)
    if solution.shape != (CELLS,):
        return f"expected 81 cells, got shape {solution.shape}"
    if ((solution < 1) | (solution > 9)).any():
        return f"{cell_name(int(np.argmax((solution < 1) | (solution > 9))))} is not filled with 1-9"
    kept = (puzzle == 0) | (puzzle == solution)
    if not kept.all():
        return f"given {cell_name(int(np.argmin(kept)))} was changed"
    for u in UNITS:
        if len(set(solution[u].tolist())) != 9:
            clash = conflicts(solution)
            i, j, d = clash[0]
            return f"{cell_name(i)} and {cell_name(j)} are both {d}"
    return None


def is_solution(puzzle: np.ndarray, solution: np.ndarray) -> bool:
    return verify(puzzle, solution) is None


def solve_unique(grid: np.ndarray) -> np.ndarray:
    """The solution of a puzzle that has exactly one; PuzzleError otherwise."""
    n, _, sol = search(grid, 2)
    if n == 0:
        raise PuzzleError("the puzzle has no solution")
    if n > 1:
        raise PuzzleError("the puzzle has more than one solution")
    return sol
