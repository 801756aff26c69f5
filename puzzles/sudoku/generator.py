"""Sudoku generation: puzzles with one solution, at a difficulty measured by the search's rating.

Pure NumPy (plus the compiled search in `search`); never imports torch.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from puzzles.errors import PuzzleError
from puzzles.sudoku.grid import CELLS, Sudoku
from puzzles.sudoku.search import count_solutions, random_solution, search, singles_guesses

DIFFICULTIES = ("easy", "medium", "hard", "extreme", "fiendish")

# Difficulty by measured rating (guesses of the most-constrained-cell search, see
# search.py) and, for the easy end, by how many givens are left.
_LEVELS = {
    # name: (stop digging at this many givens, min rating, max rating)
    "easy": (36, 0, 0),
    "medium": (28, 0, 10),
    "hard": (0, 11, 100),
    "extreme": (0, 101, 10**9),
    "fiendish": (0, 0, 10**9),  # by the reasoning it needs instead: FIENDISH guesses beyond naked and hidden singles
}
FIENDISH = 5  # 4% of plain minimal puzzles; the forum-hardest need a median of 7 (experiments/rating_gap/run.py)


def difficulty_of(grid: np.ndarray) -> str:
    """The level a puzzle falls in by its measured rating (and, for easy, its givens)."""
    r = int(search(grid, 2)[1])
    if r == 0 and (grid != 0).sum() >= _LEVELS["easy"][0]:
        return "easy"
    return next(name for name in ("medium", "hard", "extreme") if r <= _LEVELS[name][2])


def dig(solution: np.ndarray, rng: np.random.Generator, keep: int = 0) -> np.ndarray:
    """A puzzle of `solution`: its cells removed in random order while the solution stays unique, down to `keep`
    givens (0: a plain minimal puzzle, as the generator digs before it filters by rating)."""
    grid = solution.copy()
    filled = CELLS
    for i in rng.permutation(CELLS):
        if filled <= keep:
            break
        d = grid[i]
        grid[i] = 0
        if count_solutions(grid, 2) == 1:
            filled -= 1
        else:
            grid[i] = d
    return grid


def generate_one(rng: np.random.Generator, difficulty: str = "hard", max_tries: int = 10_000) -> Sudoku:
    """A puzzle with a unique solution whose measured difficulty is `difficulty` (fiendish: one a solver
    that knows naked and hidden singles cannot finish without FIENDISH guesses or more, whatever its rating)."""
    if difficulty not in _LEVELS:
        raise PuzzleError(f"unknown difficulty {difficulty!r}; choose from {', '.join(DIFFICULTIES)}")
    keep, lo, hi = _LEVELS[difficulty]
    for _ in range(max_tries):
        solution = random_solution(rng)
        grid = dig(solution, rng, keep)
        r = int(search(grid, 2)[1])
        if difficulty == "fiendish":
            if singles_guesses(grid, solution) >= FIENDISH:
                return Sudoku(grid, solution, source="generated:fiendish", rating=r)
        elif lo <= r <= hi and difficulty_of(grid) == difficulty:
            return Sudoku(grid, solution, source=f"generated:{difficulty}", rating=r)
    raise PuzzleError(f"no {difficulty} puzzle found in {max_tries} tries")


def _generate_chunk(args: tuple[int, int, str]) -> list[Sudoku]:
    seed, n, difficulty = args
    rng = np.random.default_rng(seed)
    return [generate_one(rng, difficulty) for _ in range(n)]


def generate(n: int, difficulty: str = "hard", seed: int | np.random.SeedSequence = 0, workers: int = 1,
             chunk: int = 64) -> Iterator[Sudoku]:
    """`n` puzzles, reproducible from `seed` (an integer, or a named stream of `puzzles.seeds`) whatever
    `workers` is (chunks are seeded by index)."""
    from puzzles.seeds import child

    if difficulty not in _LEVELS:
        raise PuzzleError(f"unknown difficulty {difficulty!r}; choose from {', '.join(DIFFICULTIES)}")
    chunks = range((n + chunk - 1) // chunk)
    seeds = [child(seed, k) if isinstance(seed, np.random.SeedSequence) else seed * 1_000_003 + k for k in chunks]
    jobs = [(s, min(chunk, n - k * chunk), difficulty) for k, s in zip(chunks, seeds)]
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield from _generate_chunk(job)
        return
    from puzzles import workers as processes

    pool = processes.pool(workers)  # its workers end with this process, however it ends
    try:
        for part in pool.map(_generate_chunk, jobs):
            yield from part
    except BaseException:  # an error, Ctrl-C, SIGTERM, the caller closing this early: the workers stop now
        processes.stop(pool)
        raise
    pool.shutdown(wait=True)
