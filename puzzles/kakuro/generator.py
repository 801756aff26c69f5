"""Kakuro puzzles with exactly one solution, reproducible from a seed.

A puzzle of size R x C counts every cell, the clue row on top and the clue column on the left
included, so its white cells lie in the (R-1) x (C-1) cells below and right of them. Making one:

1. a layout: blocked cells drawn at random, symmetric under a half turn, then mended until every
   across and down run is 2-9 cells (a lone white cell is blocked, a run over 9 is cut near its
   middle, and again until nothing changes); only the largest connected group of white cells is
   kept, so the puzzle is one piece. Too few white cells left: draw again.
2. a filling: digits for the white cells, all different in each run: CP-SAT with a random digit per
   cell as its hint, which it follows where runs allow.
3. the clues: each run's sum, in the cell before it.
4. uniqueness: the oracle looks for an answer other than the filling; while it finds one, a cell
   where that answer differs is revealed as a given (drawn at random among them), so the filling
   stays the one answer. It looks in small windows first, the whole grid last (`unique`).

Every draw comes from the puzzle's own random stream and CP-SAT runs single-threaded, so it is
deterministic: the same seed gives the same puzzles.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np

from puzzles.errors import UserError
from puzzles.kakuro import oracle
from puzzles.kakuro.grid import MAX_RUN, Kakuro
from puzzles.seeds import child, sequence

MIN_SIDE, MAX_SIDE = 4, 48  # a side in cells, the clue row or column included
BLACK_SHARE = 0.12  # of interior cells drawn blocked (each also blocks its half-turn twin)
MIN_WHITE_SHARE = 0.4  # of interior cells, the least a kept layout has white
SOLVE_SECONDS = 20.0  # CP-SAT's limit for a filling or a uniqueness check; over it, the layout is dropped
MAX_TRIES = 200
WINDOWS = ((6, 3), (10, 5), (16, 8))  # (side, stride) of the square regions step 4 checks first


def _mend(white: np.ndarray, rng: np.random.Generator) -> None:
    """Block cells of `white` (in place) until every run, across and down, is 2 to MAX_RUN cells."""
    changed = True
    while changed:
        changed = False
        for grid in (white, white.T):  # a view: blocking in the transpose blocks in `white`
            for line in grid:
                c = 0
                while c < len(line):
                    if not line[c]:
                        c += 1
                        continue
                    start = c
                    while c < len(line) and line[c]:
                        c += 1
                    length = c - start
                    if length == 1:
                        line[start] = False
                        changed = True
                    elif length > MAX_RUN:  # cut so that both sides keep 2 or more cells
                        line[start + int(rng.integers(max(2, length // 2 - 2), min(length - 2, length // 2 + 2)))] = False
                        changed = True


def _largest_group(white: np.ndarray) -> np.ndarray:
    """The largest 4-connected group of white cells (the first found among equals)."""
    h, w = white.shape
    label = np.full((h, w), -1)
    sizes = []
    for r0, c0 in np.argwhere(white).tolist():
        if label[r0, c0] >= 0:
            continue
        stack, label[r0, c0], n = [(r0, c0)], len(sizes), 0
        while stack:
            r, c = stack.pop()
            n += 1
            for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
                if 0 <= rr < h and 0 <= cc < w and white[rr, cc] and label[rr, cc] < 0:
                    label[rr, cc] = len(sizes)
                    stack.append((rr, cc))
        sizes.append(n)
    return label == int(np.argmax(sizes)) if sizes else white


def layout(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray | None:
    """bool (rows, cols): the white cells of a valid layout (step 1), or None when too few are left."""
    inner = rng.random((rows - 1, cols - 1)) >= BLACK_SHARE / 2
    inner &= inner[::-1, ::-1]
    white = np.zeros((rows, cols), bool)
    white[1:, 1:] = inner
    _mend(white, rng)
    white = _largest_group(white)
    return white if white.sum() >= MIN_WHITE_SHARE * (rows - 1) * (cols - 1) else None


def fill(white: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """int8 digits for the white cells, different in every run (step 2), or None when CP-SAT finds none in
    time. The search follows a random digit per cell as a hint and mends it where runs clash."""
    cp_model = oracle.cp_model()
    model = cp_model.CpModel()
    x = {}
    for r, c in np.argwhere(white).tolist():
        x[r, c] = model.new_int_var(1, 9, "")
        model.add_hint(x[r, c], int(rng.integers(1, 10)))
    for _, cells in runs_of(white):
        model.add_all_different([x[cell] for cell in cells])
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.cp_model_presolve = False  # a few times faster here
    solver.parameters.max_time_in_seconds = SOLVE_SECONDS
    if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    digits = np.zeros(white.shape, np.int8)
    for cell, var in x.items():
        digits[cell] = solver.value(var)
    return digits


def runs_of(white: np.ndarray) -> list[tuple[str, list[tuple[int, int]]]]:
    """(direction, cells) of every run of a layout, across runs first."""
    out = []
    for direction, grid in (("across", white), ("down", white.T)):
        for a, line in enumerate(grid.tolist()):
            run: list[tuple[int, int]] = []
            for b, on in enumerate([*line, False]):
                if on:
                    run.append((a, b) if direction == "across" else (b, a))
                elif run:
                    out.append((direction, run))
                    run = []
    return out


def clues(white: np.ndarray, digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(across, down) sums of each run, in the cell before it (step 3)."""
    across, down = np.zeros(white.shape, np.int16), np.zeros(white.shape, np.int16)
    for direction, cells in runs_of(white):
        (r, c), total = cells[0], sum(int(digits[cell]) for cell in cells)
        if direction == "across":
            across[r, c - 1] = total
        else:
            down[r - 1, c] = total
    return across, down


def _windows(rows: int, cols: int):
    """bool (rows, cols) masks of the regions step 4 checks in turn: squares of each WINDOWS side that is
    smaller than the grid, overlapping by half, then the whole grid."""
    def starts(n: int, side: int, stride: int) -> list[int]:
        return sorted({*range(1, n - side, stride), max(1, n - side)})

    for side, stride in WINDOWS:
        if side >= max(rows, cols) - 1:
            break
        for r0 in starts(rows, side, stride):
            for c0 in starts(cols, side, stride):
                mask = np.zeros((rows, cols), bool)
                mask[r0:r0 + side, c0:c0 + side] = True
                yield mask
    yield np.ones((rows, cols), bool)


def unique(k: Kakuro, solution: np.ndarray, rng: np.random.Generator) -> Kakuro | None:
    """`k` with givens revealed until `solution` is its only answer (step 4); None when the oracle ran out
    of time. Most other answers differ from the filling in a few nearby cells, so they are looked for
    first in small windows with every cell outside fixed to the filling (a few milliseconds each, where
    a search of the whole grid takes a hundred), then in larger ones, then in the whole grid."""
    for window in _windows(*k.shape):
        while True:
            status, other, _ = oracle.find(k.with_digits(np.where(window, k.digits, solution)), SOLVE_SECONDS,
                                           avoid=solution)
            if status == oracle.NO_SOLUTION:
                break
            if status != oracle.FOUND:
                return None
            differ = np.argwhere(other != solution)
            cell = tuple(differ[rng.integers(len(differ))])
            digits = k.digits.copy()
            digits[cell] = solution[cell]
            k = k.with_digits(digits)
    return k


def generate_one(rows: int, cols: int, rng: np.random.Generator) -> tuple[Kakuro, np.ndarray]:
    """One puzzle with exactly one solution, and that solution (int8 (rows, cols), 0 off the white cells)."""
    for _ in range(MAX_TRIES):
        white = layout(rows, cols, rng)
        digits = None if white is None else fill(white, rng)
        if digits is None:
            continue
        across, down = clues(white, digits)
        made = unique(Kakuro.checked(white, np.zeros_like(digits), across, down), digits, rng)
        if made is not None:
            return made, digits
    raise UserError(f"no {rows}x{cols} Kakuro found in {MAX_TRIES} tries")  # pragma: no cover - never seen


def check_size(rows: int, cols: int) -> None:
    """UserError unless both sides are MIN_SIDE to MAX_SIDE."""
    for name, side in (("rows", rows), ("cols", cols)):
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise UserError(f"a Kakuro's {name} must be {MIN_SIDE} to {MAX_SIDE} (the clue row and column "
                            f"included), got {side}")


def generate(rows: int, cols: int, n: int, seed: int | np.random.SeedSequence = 0,
             max_side: int | None = None) -> Iterator[tuple[Kakuro, np.ndarray]]:
    """`n` (puzzle, solution) pairs of size rows x cols, made one by one as they are asked for (the size is
    checked at once). The k-th is drawn from its own stream of `seed` (an integer, or a named stream of
    `puzzles.seeds`), so the first puzzles of a longer set are the same. With `max_side`, each puzzle is square,
    its side drawn from `rows` to `max_side` (both included) by its own stream: a set of mixed sizes."""
    check_size(rows, cols)
    if max_side is not None:
        check_size(max_side, max_side)
        if max_side < rows:
            raise UserError(f"a Kakuro's largest side ({max_side}) is below its smallest ({rows})")
    seed = sequence(seed)

    def made(k: int) -> tuple[Kakuro, np.ndarray]:
        rng = np.random.default_rng(child(seed, k))
        r, c = (rows, cols) if max_side is None else (int(rng.integers(rows, max_side + 1)),) * 2
        puzzle, solution = generate_one(r, c, rng)
        return replace(puzzle, source=f"generated:{r}x{c}:{k + 1}"), solution

    return (made(k) for k in range(n))
