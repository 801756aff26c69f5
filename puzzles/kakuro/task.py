"""Kakuro as a task (`puzzles.contract.Task`): the core every kind supplies, and an exact oracle.

It has no neural side yet (no encoding, structure or model): the CLI and the benchmark solve it with
its oracle only. A puzzle is a `Kakuro`; an answer, a reference and what `answer` reads are int8
(H, W) digit grids, 0 off the white cells.
"""

from __future__ import annotations

import numpy as np

from puzzles.errors import UserError
from puzzles.kakuro import generate as gen
from puzzles.kakuro import grid, oracle
from puzzles.kakuro.grid import Kakuro
from puzzles.sudoku import NO_SOLUTION, SEVERAL_SOLUTIONS

KIND = "kakuro"  # the generator's one kind (`gen:kakuro:N:...`)
DEFAULT_SIZE = 8


class KakuroTask:
    name = "kakuro"
    oracles = ("cpsat",)
    hybrids = ()  # no model, so no model-guided search

    def read_file(self, path: str) -> tuple[list[Kakuro], list[None]]:
        """(puzzles, no known solutions: a file holds puzzles only); `-` reads standard input."""
        puzzles = grid.read_file(path)
        return puzzles, [None] * len(puzzles)

    def generate(self, kind: str, n: int, options: dict, seed) -> tuple[list[Kakuro], list[np.ndarray]]:
        """(n puzzles with one solution each, their solutions) of kind `kakuro`; options size (square, default
        8) or rows and cols, each counting the clue row or column: `gen:kakuro:100:size=8:seed=1`,
        `gen:kakuro:10:rows=10:cols=16`."""
        if kind != KIND:
            raise UserError(f"unknown Kakuro generator kind {kind!r}; the one kind is {KIND}")
        unknown = set(options) - {"size", "rows", "cols"}
        if unknown:
            raise UserError(f"unknown Kakuro generator option(s): {', '.join(sorted(unknown))}")
        if "size" in options and ({"rows", "cols"} & set(options)):
            raise UserError("give a Kakuro's size= or its rows= and cols=, not both")
        rows = options.get("rows", options.get("size", DEFAULT_SIZE))
        cols = options.get("cols", options.get("size", DEFAULT_SIZE))
        made = list(gen.generate(rows, cols, n, seed))
        return [k for k, _ in made], [s for _, s in made]

    def reference(self, puzzle: Kakuro, where: str, known: np.ndarray | None = None) -> np.ndarray:
        """The one solution; UserError when there is none or several (a benchmark scores "the" answer)."""
        n, answer = oracle.count(puzzle)
        if n != 1:
            why = "no answer within the time limit" if n is None else NO_SOLUTION if n == 0 else SEVERAL_SOLUTIONS
            raise UserError(f"{where} has {why}; a benchmark scores puzzles with exactly one solution")
        return answer if known is None else known

    def shape_of(self, puzzle: Kakuro) -> tuple[int, int]:
        return puzzle.shape

    def to_text(self, puzzle: Kakuro) -> str:
        return grid.to_text(puzzle)

    def answer(self, text: str) -> np.ndarray:
        """The digits of an answer's text (as the oracle writes it); PuzzleError when it is no grid."""
        return grid.parse(text).digits

    def check(self, puzzle: Kakuro, answer: np.ndarray) -> str | None:
        """Why `answer` is not a solution of `puzzle` (None: it is)."""
        return grid.verify(puzzle, answer)

    def score(self, puzzle: Kakuro, reference: np.ndarray, answer: np.ndarray | None) -> tuple[int, int]:
        """(empty cells whose answer matches the reference, empty cells); an answer of another shape scores 0."""
        empty = puzzle.white & (puzzle.digits == 0)
        if answer is None or np.shape(answer) != puzzle.shape:
            return 0, int(empty.sum())
        return int((np.asarray(answer)[empty] == np.asarray(reference)[empty]).sum()), int(empty.sum())

    def screen(self, puzzle: Kakuro, unique: bool = False) -> str | None:
        """Why no solver can give the answer looked for (None: one can): with `unique`, unless there is
        exactly one. Without it, None: a puzzle with no solution is told apart once a solver fails it
        (`explain`), as Sudoku's are."""
        if not unique:
            return None
        n, _ = oracle.count(puzzle)
        return NO_SOLUTION if n == 0 else SEVERAL_SOLUTIONS if n == 2 else None

    def explain(self, puzzle: Kakuro) -> str | None:
        """NO_SOLUTION when the puzzle has none, else None."""
        status, _, _ = oracle.find(puzzle, oracle.DEFAULT_TIME_LIMIT)
        return NO_SOLUTION if status == NO_SOLUTION else None

    def solve_exact(self, puzzles: list[Kakuro], solver: str, time_limit: float | None, workers: int = 2,
                    check_unique: bool = False):
        """One Result per puzzle, in order, from the CP-SAT oracle (the benchmark's references already
        prove uniqueness, so by default it stops at the first answer); time_limit None: each one's size default."""
        if solver not in self.oracles:
            raise UserError(f"unknown Kakuro solver {solver!r}; choose from {', '.join(self.oracles)}")
        return oracle.solve_many(puzzles, time_limit, workers=workers, check_unique=check_unique)
