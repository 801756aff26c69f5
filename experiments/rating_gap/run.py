"""How hard is the training pool against the puzzles we score on? Ratings side by side.

The table of docs/results/sudoku.md, "The forum-hardest class: what the training data lacks". It prints, and
writes no results/ file:

    S=../shared/puzzles/sudoku
    .venv/bin/python experiments/rating_gap/run.py --files $S --limit 1000 --dig 4000

Two ratings: the generator's own (`puzzles.sudoku.search.rating`: the guesses the most-constrained-cell
search makes to exhaust the tree, naked singles only), and the guesses a solver that knows naked and
hidden singles makes on its way to the solution (`singles_guesses`; "guess": the share of puzzles
singles alone do not solve). Prints both for the training pool's two difficulties (the generator's hard
and extreme, as `csp train` draws them), for the first --limit puzzles of each file in --files, and for
--dig plain minimal puzzles (random solution grid, cells removed in random order while the solution
stays unique: the generator before it filters by rating), with how many of those it takes to find one
at or above the forum-hardest file's median of each rating: the cost of generating at that difficulty.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from puzzles import sudoku  # noqa: E402
from puzzles.sudoku.search import random_solution, rating, search, singles_guesses  # noqa: E402

HARDEST = "tdoku_forum_hardest_1905_dev5000.txt"


def quantiles(name: str, grids: list[np.ndarray]) -> tuple[list[int], list[int]]:
    """Print both ratings' quantiles for `grids`; returns both ratings."""
    ratings = [rating(g) for g in grids]
    guesses = [singles_guesses(g, search(g, 1)[2]) for g in grids]
    q = np.percentile(ratings, [10, 25, 50, 75, 90])
    print(f"{name:42s} {len(grids):5d}  " + "  ".join(f"{v:7.0f}" for v in q)
          + f"   {np.median(guesses):6.0f}  {100 * np.mean(np.array(guesses) > 0):5.0f}%")
    return ratings, guesses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", required=True, help="a folder of puzzle files")
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--dig", type=int, default=2000)
    args = parser.parse_args()
    print(f"{'':48s} {'the generator rating (tree guesses)':^43s}   {'singles solver':^13s}")
    print(f"{'puzzles':42s} {'n':>5s}  {'p10':>7s}  {'p25':>7s}  {'median':>7s}  {'p75':>7s}  {'p90':>7s}"
          f"   {'median':>6s}  {'guess':>6s}")
    for difficulty in ("hard", "extreme"):
        quantiles(f"training pool: generated {difficulty}",
                  [s.givens for s in sudoku.generate(args.limit, difficulty, seed=0, workers=1)])
    hardest = None
    for path in sorted(Path(args.files).glob("*.txt")):
        ratings = quantiles(path.name, [s.givens for s in sudoku.read_file(str(path))[:args.limit]])
        if path.name == HARDEST:
            hardest = [float(np.median(r)) for r in ratings]
    rng = np.random.default_rng(0)
    t = time.process_time()
    grids = [sudoku.dig(random_solution(rng), rng) for _ in range(args.dig)]
    seconds = time.process_time() - t
    dug = quantiles("plain minimal puzzles", grids)
    print(f"digging takes {1000 * seconds / args.dig:.1f} CPU-ms a puzzle")
    for name, median, ours in zip(("tree guesses", "singles-solver guesses"), hardest or (), dug):
        share = float(np.mean(np.array(ours) >= median))
        per = f"{1 / share:,.0f}" if share else f"more than {args.dig:,}"
        print(f"at or above the forum-hardest median {name} ({median:g}): {100 * share:.2f}% of plain minimal "
              f"puzzles, {per} dug per one kept")


if __name__ == "__main__":
    main()
