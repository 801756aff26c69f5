"""The compiled Kakuro search (puzzles/kakuro/search.py): held to the CP-SAT oracle on generated puzzles and on
variants with no or several solutions, its propagation at least `oracle.domains`', and the task's guided search
(the hybrid's contract: a perfect order never backtracks, a wrong one is still complete)."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import searched

from puzzles.kakuro import encoding as enc
from puzzles.kakuro import generator as gen
from puzzles.kakuro import grid, oracle, search
from puzzles.kakuro.grid import Kakuro
from puzzles.kakuro.task import KakuroTask
from puzzles.result import NO_SOLUTION, SEVERAL_SOLUTIONS

SMALL = "#    16\\  23\\  #\n\\17  .    .    13\\\n\\24  .    .    .\n#    \\11  .    .\n"  # one answer
SEVERAL = "#  10\\ 10\\\n\\10 . .\n\\10 . .\n"  # a, b / b, a for any a + b = 10
NONE = "#  3\\ 3\\\n\\3 . .\n\\17 . .\n"  # the columns need digits under 3, the second row 8 and 9


@pytest.fixture(scope="module")
def generated() -> list[tuple[Kakuro, np.ndarray]]:
    """20 generated puzzles, 5x5 to 9x9, with their one solution."""
    return [made for size in ((5, 5), (6, 7), (8, 8), (9, 9)) for made in gen.generate(*size, 5, seed=31 + size[1])]


def _variants(k: Kakuro, solution: np.ndarray, rng: np.random.Generator) -> list[Kakuro]:
    """The puzzle, the puzzle with half its givens taken away (often several solutions), and with a wrong given
    (often none), where the grid's rules take it."""
    out = [k]
    digits = k.digits.copy()
    given = np.argwhere(digits > 0)
    drop = given[rng.random(len(given)) < 0.5]
    digits[drop[:, 0], drop[:, 1]] = 0
    out.append(k.with_digits(digits))
    digits = k.digits.copy()
    open_ = np.argwhere(k.white & (digits == 0))
    r, c = open_[rng.integers(len(open_))]
    digits[r, c] = solution[r, c] % 9 + 1
    try:
        out.append(Kakuro.checked(k.white, digits, k.across, k.down))
    except Exception:  # a given repeated in its run: the reader refuses it
        pass
    return out


def test_the_search_counts_and_solves_as_the_oracle_does(generated):
    rng = np.random.default_rng(0)
    seen = set()
    for k, solution in generated:
        found, _, _, first = search.solve(k, 2)
        assert found == 1 and (first == solution).all()
        for v in _variants(k, solution, rng):
            n, first = search.count(v, 2)
            m, answer = oracle.count(v)
            assert n == m
            seen.add(n)
            if n:
                assert grid.verify(v, first) is None
            if n == 1:
                assert (first == answer).all()
    assert seen == {0, 1, 2}  # puzzles with none, one and several solutions were all met


def test_no_several_and_one_solution_are_said_as_the_oracle_says_them():
    task = KakuroTask()
    small, several, none = (grid.parse(t) for t in (SMALL, SEVERAL, NONE))
    assert searched(task, small, None, unique=True, queries=0)[1] is None
    assert searched(task, several, None, unique=True, queries=0)[1] == SEVERAL_SOLUTIONS == oracle.solve(several).error
    solution, why, _, _ = searched(task, several, None, unique=False, queries=0)  # one of them is an answer
    assert why is None and task.verify(enc.encode(several), solution, several.shape)
    assert searched(task, none, None, unique=False, queries=0)[1] == NO_SOLUTION == oracle.solve(none).error


def test_propagation_decides_at_least_what_the_oracles_domains_decide(generated):
    for k, solution in generated:
        status, decided = search.Search(k).propagate()
        assert status in (0, 1) and ((decided == 0) | (decided == solution)).all()
        for cell, digits in oracle.domains(k).items():
            if len(digits) == 1:
                assert decided[cell] == next(iter(digits))


def test_a_perfect_order_never_backtracks_and_a_wrong_one_is_still_complete(generated):
    task = KakuroTask()
    hard = [(k, s) for k, s in generated if task.free_search_nodes(k) > 2]
    assert hard  # some need a search
    for k, s in hard:
        free_solution, why, free_nodes, _ = searched(task, k, None, unique=True, queries=0)
        assert why is None and task.verify(enc.encode(k), free_solution, k.shape)
        assert free_nodes == task.free_search_nodes(k)
        right = np.eye(9)[s.reshape(-1).clip(1) - 1] * 0.9 + 0.01  # (H*W, 9), the answer's digit surest
        solution, why, nodes, wrong = searched(task, k, right, unique=True)
        assert why is None and (solution == free_solution).all() and wrong == 0 and nodes <= free_nodes
        solution, why, _, wrong = searched(task, k, 1 - right, unique=True)  # the right digit last
        assert why is None and (solution == free_solution).all() and wrong > 0
        found, _, wrong, first = search.Search(k).run(2, right, model_ties=True)  # the Sudoku hybrid's ties
        assert found == 1 and wrong == 0 and (first == s).all()


def test_the_guided_search_asks_once_with_the_grid_propagation_leaves():
    task = KakuroTask()
    k, s = next(iter(gen.generate(9, 9, 1, seed=3)))  # propagation alone leaves it open
    asked = []

    def answer(g):
        asked.append(g)
        return np.full((g.size, 9), 1 / 9)

    values, shape = task.encode(k)
    searched(task, values, answer, unique=False, queries=5)  # an encoded grid of its shape (square here)
    status, decided = search.Search(k).propagate()
    assert status == 1 and len(asked) == 1 and (asked[0] == enc.encode(k.with_digits(decided))).all()
    assert ((asked[0] >= enc.BLOCK) == (values >= enc.BLOCK)).all()  # the clues as the puzzle has them
    assert (asked[0] > 0).sum() > (values > 0).sum()  # with the cells propagation decided
    searched(task, values, answer, unique=False, queries=0)
    assert len(asked) == 1  # the model-free search asks nothing


def test_large_generated_puzzles_are_solved_and_proved_unique():
    for k, s in gen.generate(24, 24, 1, seed=3):
        found, _, _, first = search.solve(k, 2)
        assert found == 1 and (first == s).all()
