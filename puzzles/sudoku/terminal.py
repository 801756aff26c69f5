"""Sudoku on the command line (`puzzles.contract.Terminal`): a PUZZLE given as an argument, the grid drawn with its
boxes, the live view's frames, and `csp generate sudoku`'s difficulty and CSV. Pure Python and NumPy: drawings are
(text, style) pieces that cli/ turns into rich Text."""

from __future__ import annotations

import numpy as np

from puzzles import sudoku
from puzzles.contract import Drawing, Generator, Option, Terminal
from puzzles.errors import UserError

RULE = "+-------+-------+-------+"


def grid(puzzle: np.ndarray, filled: np.ndarray | None = None, styles: dict[int, str] | None = None) -> Drawing:
    """The grid (81 digits, 0 blank) with its 3x3 boxes: givens bold white, `filled` cells cyan; `styles` maps a
    cell index to the style that overrides it."""
    shown = puzzle if filled is None else filled
    styles = styles or {}
    out: Drawing = []
    for r in range(9):
        if r % 3 == 0:
            out.append((RULE + "\n", "dim"))
        for c in range(9):
            if c % 3 == 0:
                out.append(("| ", "dim"))
            i = r * 9 + c
            d = int(shown[i])
            out.append((str(d) if d else ".", styles.get(i, "bold white" if puzzle[i] else "cyan")))
            out.append((" ", ""))
        out.append(("|\n", "dim"))
    out.append((RULE, "dim"))
    return out


def draw(puzzle: np.ndarray, answer: str | None) -> Drawing:
    """The puzzle drawn with an answer's cells (an unverified answer's too, clashes and all)."""
    text = (answer or "").replace(".", "0")
    filled = np.array([int(ch) for ch in text], dtype=np.int8) if len(text) == sudoku.CELLS and text.isdigit() else None
    return grid(puzzle, filled)


def live(puzzle: np.ndarray, values: np.ndarray, committed: np.ndarray, retracted: np.ndarray) -> Drawing:
    """One step of the sampler: its values, the cells it just committed green, those it retracted red."""
    styles = {int(i): "bold green" for i in np.flatnonzero(committed)}
    styles.update({int(i): "bold red" for i in np.flatnonzero(retracted)})
    return grid(puzzle, values, styles)


def read(path: str, on_error, limit: int | None) -> list[tuple[np.ndarray, str]]:
    """(givens, where) of each puzzle of a file, or of standard input (`-`, bounded: an endless one is one error)."""
    from puzzles.files import read_stdin

    if path == "-":
        items = sudoku.read_text(read_stdin(), name="<stdin>", on_error=on_error, limit=limit)
    else:
        items = sudoku.read_file(path, on_error=on_error, limit=limit)
    return [(s.givens, s.source) for s in items]


def _make(n: int, seed: int, workers: int, options: dict):
    difficulty = options["difficulty"]
    if difficulty not in sudoku.DIFFICULTIES:
        raise UserError(f"unknown difficulty {difficulty!r}; choose from {', '.join(sudoku.DIFFICULTIES)}")
    return sudoku.generate(n, difficulty, seed=seed, workers=workers)


def _write(made: list, options: dict) -> str:
    return sudoku.write_csv(made) if options["csv"] else sudoku.write_lines(made)


GENERATOR = Generator(
    help="""Generate puzzles with a unique solution: one per line, the solution as the second field.

Examples:

csp generate sudoku -n 100 --difficulty extreme -o extreme.txt
csp generate sudoku -n 1000 --csv --workers 2 > puzzles.csv""",
    make=_make,
    write=_write,
    options=(
        Option("difficulty", ("--difficulty", "-d"), "hard", f"One of {', '.join(sudoku.DIFFICULTIES)}."),
        Option("csv", ("--csv",), False, "Write CSV source,question,answer,rating instead of lines."),
    ),
    made="{difficulty} puzzle",
    workers=True,
)

TERMINAL = Terminal(
    help="""Solve Sudoku puzzles, each answer written as it settles; exit 0 if all are solved, 1 if any is not (or was
skipped), 2 on bad input, 130 on Ctrl-C.

Examples:

csp solve sudoku 53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79
csp solve sudoku puzzles/data/sample.sudoku --solver cpsat --json > results.jsonl
csp generate sudoku -n 10 | csp solve sudoku --format csv -o answers.csv""",
    read=read,
    parse=sudoku.parse,
    puzzle_help="One puzzle: 81 cells, blanks as . 0 or _ (spaces, line breaks and | ! - + are ignored); or a FILE of "
    "puzzles (one a line, 9-line grids as in .sdk and .ss files, or CSV with a puzzle column); - for standard input; "
    "nothing: the piped standard input.",
    suffixes=(".txt", ".csv", ".sudoku", ".sdk", ".ss", ".sdm"),
    draw=draw,
    live=live,
    legend=(("given", "bold white"), ("  ", ""), ("committed", "cyan"), ("  ", ""), ("just committed", "bold green"),
            ("  ", ""), ("retracted", "bold red")),
    one_line=True,
    bench="gen:hard:1000:seed=1",
    generator=GENERATOR,
)
