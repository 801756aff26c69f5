"""The Sudoku search's orders and counts: the solver order the AR-solver learns, and the guesses a singles
solver cannot avoid."""

from __future__ import annotations

import numpy as np

from puzzles import sudoku
from puzzles.sudoku.search import solver_order


def _candidates(grid: np.ndarray, i: int) -> set[int]:
    r, c = divmod(i, 9)
    peers = {j for j in range(81) if j != i and (j // 9 == r or j % 9 == c or (j // 27, j % 9 // 3) == (i // 27, c // 3))}
    return set(range(1, 10)) - {int(grid[j]) for j in peers}


def test_solver_order_fills_every_blank_once_and_singles_first():
    s = next(iter(sudoku.generate(1, "hard", seed=3, workers=1)))
    order = solver_order(s.givens, s.solution)
    assert sorted(order.tolist()) == np.flatnonzero(s.givens == 0).tolist()
    grid = s.givens.astype(int).copy()
    guesses = 0
    for i in order:
        cands = _candidates(grid, int(i))
        assert s.solution[i] in cands  # every move is consistent with the grid so far
        if len(cands) > 1:
            # not a naked single: then no blank may have had one, and it is a hidden single or a guess
            assert not any(len(_candidates(grid, j)) == 1 for j in np.flatnonzero(grid == 0))
            guesses += 1
        grid[i] = s.solution[i]
    assert (grid == s.solution).all()
    assert guesses < len(order) / 2  # a propagation order, not row-major


def test_solver_order_needs_no_guess_on_a_singles_puzzle():
    easy = next(iter(sudoku.generate(1, "easy", seed=1, workers=1)))
    grid = easy.givens.astype(int).copy()
    for i in solver_order(easy.givens, easy.solution):
        cands = _candidates(grid, int(i))
        hidden = any(sum(1 for j in unit if grid[j] == 0 and easy.solution[i] in _candidates(grid, j)) == 1
                     for unit in _units(int(i)))
        assert len(cands) == 1 or hidden
        grid[i] = easy.solution[i]


def _units(i: int):
    r, c = divmod(i, 9)
    box = [j for j in range(81) if (j // 27, j % 9 // 3) == (i // 27, c // 3)]
    return [range(r * 9, r * 9 + 9), range(c, 81, 9), box]


def test_singles_guesses_counts_the_guesses_a_singles_solver_cannot_avoid():
    from puzzles.sudoku.search import search, singles_guesses

    easy = next(iter(sudoku.generate(1, "easy", seed=1, workers=1)))
    assert singles_guesses(easy.givens, easy.solution) == 0
    # the first forum-hardest puzzle: no single at all from the givens, and guesses all the way down
    hard = np.array([0 if c == "." else int(c) for c in
                     "98.7..6..75..4......3..8.7.8....9.5..3.2..1.....4....6.7...4.3....8..4......1...2"], np.int8)
    solution = search(hard, 1)[2]
    order = solver_order(hard, solution)
    assert singles_guesses(hard, solution) >= 2
    first = int(order[0])
    assert len(_candidates(hard.astype(int), first)) > 1  # no naked single to start from
