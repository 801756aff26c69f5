"""The default time limit: seconds of its own work per puzzle, fitted to the puzzle's size.

A solver's work grows with the grid: the maze model's first step runs about two loops per path cell,
each over the whole grid, so a 99 x 99 random-wall maze took up to 300 s and a 201 x 201 perfect maze
76-118 s where a Sudoku takes under one (docs/results/maze.md). A flat default would give up on the large
ones the model solves, so the default is BASE seconds or PER_CELL seconds a cell, whichever is more:

    default = max(10, 0.03 x cells)

10 s for a Sudoku (81 cells), a Kakuro or a maze of up to 333 cells; 27 s at 30 x 30, 108 s at 60 x 60,
294 s at 99 x 99, 1,212 s at 201 x 201. `--time-limit` given is the user's bound, whatever the size.
"""

from __future__ import annotations

BASE = 10.0  # seconds every puzzle gets at least
PER_CELL = 0.03  # seconds a cell on larger grids

FORMULA = f"the larger of {BASE:g} s and {PER_CELL:g} s a cell"  # for help texts


def default_time_limit(cells: int) -> float:
    """Seconds per puzzle for a grid of `cells` cells when no limit is given."""
    return max(BASE, PER_CELL * int(cells))


def time_limit(given: float | None, cells: int) -> float:
    """`given` (the user's bound) if there is one, else the default for `cells`."""
    return float(given) if given is not None else default_time_limit(cells)


__all__ = ["BASE", "FORMULA", "PER_CELL", "default_time_limit", "time_limit"]
