"""The never-wrong hybrid: a complete search ordered by the model's probabilities."""

from __future__ import annotations

import numpy as np
from typer.testing import CliRunner

from cli.app import app
from puzzles import sudoku
from puzzles.domains import SudokuTask

runner = CliRunner()
P1 = "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"


def test_guided_search_is_complete_and_a_perfect_order_never_backtracks():
    task = SudokuTask()
    for s in sudoku.generate(4, "extreme", seed=5, workers=1):
        free_solution, why, free_nodes, _ = task.guided_search(s.givens, None, unique=True)
        assert why is None and (free_solution == s.solution).all()
        perfect = np.eye(9)[s.solution - 1] * 0.9 + 0.01
        solution, why, nodes, wrong = task.guided_search(s.givens, perfect, unique=True)
        assert why is None and (solution == s.solution).all() and wrong == 0 and nodes <= free_nodes
        worst = 1 - perfect  # the right digit last: still complete, never wrong
        solution, why, _, wrong = task.guided_search(s.givens, worst, unique=True)
        assert (solution == s.solution).all() and wrong > 0


def test_guided_search_says_no_and_several_solutions_as_the_oracles_do():
    task = SudokuTask()
    several = np.zeros(81, np.int64)
    assert task.guided_search(several, None, unique=True)[1] == sudoku.SEVERAL_SOLUTIONS
    assert task.guided_search(several, None, unique=False)[1] is None  # one of them is an answer
    impossible = np.zeros(81, np.int64)
    impossible[:8] = np.arange(1, 9)
    impossible[9 + 8] = 9  # the top-right cell's column holds its only candidate
    assert task.guided_search(impossible, None, unique=False)[1] == sudoku.NO_SOLUTION


def test_csp_solve_with_the_hybrid_verifies_and_reports_its_search():
    r = runner.invoke(app, ["solve", "sudoku", P1, "--solver", "hybrid", "--json"])
    assert r.exit_code == 0, r.output
    assert '"verified": true' in r.stdout and '"nodes":' in r.stdout and '"backtracks":' in r.stdout
    r = runner.invoke(app, ["solve", "sudoku", "." * 81, "--solver", "hybrid"])
    assert r.exit_code == 1 and "more than one solution" in r.stdout
