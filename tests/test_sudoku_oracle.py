"""puzzles.sudoku.oracle: the CP-SAT and python-constraint oracles, the registry, solve_many."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from puzzles import sudoku as sd
from puzzles.errors import PuzzleError
from puzzles.result import Result
from puzzles.sudoku import oracle as so

SHARED = Path(__file__).resolve().parent / ".." / ".." / "shared" / "puzzles" / "sudoku"
TOP95 = SHARED / "norvig_top95.txt"

P1 = "4.....8.5.3..........7......2.....6.....8.4......1.......6.3.7.5..2.....1.4......"
S1 = "417369825632158947958724316825437169791586432346912758289643571573291684164875293"
# r1 holds 1-8 and r5c9 is 9: r1c9 has no digit left, though no two givens clash.
NO_SOLUTION = "12345678." + "." * 36 + "........9" + "." * 27
EMPTY = "." * 81
# top95 #18: several seconds for plain backtracking with forward checking.
HARD = "45.....3....8.1....9...........5..9.2..7.....8.........1..4..........7.2...6..8.."


def _two_solutions() -> str:
    """S1 with an unavoidable rectangle blanked: exactly two solutions."""
    s = np.array([int(c) for c in S1]).reshape(9, 9)
    for r1 in range(9):
        for r2 in range(r1 + 1, (r1 // 3) * 3 + 3):
            for c1 in range(9):
                for c2 in range(c1 + 1, 9):
                    if c1 // 3 != c2 // 3 and s[r1, c1] == s[r2, c2] and s[r1, c2] == s[r2, c1]:
                        g = s.copy()
                        g[[r1, r1, r2, r2], [c1, c2, c1, c2]] = 0
                        text = "".join(str(d) if d else "." for d in g.reshape(81))
                        assert sd.count_solutions(sd.parse(text), 5) == 2
                        return text
    raise AssertionError("no rectangle")


TWO = _two_solutions()
ORACLES = ["cpsat", "constraint"]


@pytest.fixture(scope="module")
def top95() -> list[str]:
    if not TOP95.is_file():
        pytest.skip(f"benchmark puzzles not found: {SHARED.resolve()} (the shared puzzle folder next to the repo)")
    puzzles = [sd.to_string(s.givens) for s in sd.read_file(TOP95)]
    assert len(puzzles) == 95
    return puzzles


def _check_solved(r: Result, puzzle: str, solver: str) -> None:
    assert r.task == "sudoku" and r.solver == solver
    assert r.puzzle == puzzle
    assert r.solved and r.verified and r.error is None, r
    assert r.solution is not None and len(r.solution) == 81 and r.solution.isdigit()
    assert sd.verify(sd.parse(puzzle), sd.parse(r.solution)) is None
    assert r.seconds >= 0


# ---------------------------------------------------------------- top95, every answer verified


@pytest.mark.parametrize("solver", ORACLES)
def test_top95_all_solved_and_verified(top95, solver):
    results = list(so.solve_many(top95, solver, time_limit=30, workers=2))
    assert len(results) == 95
    for puzzle, r in zip(top95, results):  # input order kept
        _check_solved(r, puzzle, solver)
    assert len({r.solution for r in results}) == 95


def test_top95_oracles_agree_and_prove_uniqueness(top95):
    cp = list(so.solve_many(top95, "cpsat", time_limit=30, workers=2, check_unique=True))
    assert all(r.solved for r in cp), [r.error for r in cp if not r.solved]
    # the constraint oracle, in this process on a sample, proving uniqueness too
    for k in range(0, 95, 12):
        r = so.solve_constraint(top95[k], time_limit=30, check_unique=True)
        _check_solved(r, top95[k], "constraint")
        assert r.solution == cp[k].solution  # a unique solution: both oracles must find the same


# ---------------------------------------------------------------- single puzzles


@pytest.mark.parametrize("solver", ORACLES)
@pytest.mark.parametrize("check_unique", [False, True])
def test_solves_a_known_puzzle(solver, check_unique):
    r = so.SOLVERS[solver](P1, time_limit=10, check_unique=check_unique)
    _check_solved(r, P1, solver)
    assert r.solution == S1


@pytest.mark.parametrize("solver", ORACLES)
def test_accepts_string_grid_and_sudoku(solver):
    fn = so.SOLVERS[solver]
    g = sd.parse(P1)
    for form in (P1, P1.replace(".", "0"), g, g.astype(np.int64), sd.Sudoku(g)):
        assert fn(form).solution == S1


@pytest.mark.parametrize("solver", ORACLES)
@pytest.mark.parametrize("check_unique", [False, True])
def test_no_solution(solver, check_unique):
    r = so.SOLVERS[solver](NO_SOLUTION, check_unique=check_unique)
    assert not r.solved and not r.verified
    assert r.solution is None and r.error == "no solution"
    assert r.puzzle == NO_SOLUTION


@pytest.mark.parametrize("solver", ORACLES)
def test_clashing_givens(solver):
    text = "55" + "." * 79
    with pytest.raises(PuzzleError, match="givens conflict: r1c1 and r1c2 are both 5"):
        so.SOLVERS[solver](text)
    # a grid is taken as it is: clashing givens make it unsolvable
    r = so.SOLVERS[solver](np.array([5, 5] + [0] * 79, np.int8))
    assert not r.solved and r.error == "no solution"


@pytest.mark.parametrize("solver", ORACLES)
@pytest.mark.parametrize("puzzle", [EMPTY, TWO], ids=["empty", "two-solutions"])
def test_several_solutions(solver, puzzle):
    fn = so.SOLVERS[solver]
    r = fn(puzzle, check_unique=True)
    assert not r.solved and r.solution is None
    assert r.error == "more than one solution"
    # without the check, any one solution will do
    r = fn(puzzle, check_unique=False)
    _check_solved(r, puzzle, solver)


@pytest.mark.parametrize("solver", ORACLES)
def test_full_grid_is_its_own_unique_solution(solver):
    r = so.SOLVERS[solver](S1, check_unique=True)
    _check_solved(r, S1, solver)
    assert r.solution == S1


@pytest.mark.parametrize("solver", ORACLES)
def test_time_limit(solver):
    start = time.perf_counter()
    r = so.SOLVERS[solver](HARD, time_limit=1e-6)
    assert time.perf_counter() - start < 2
    assert not r.solved and r.solution is None and r.error == "time limit"


def test_constraint_time_limit_stops_a_long_search():
    # plain all-different needs several seconds on this one; the deadline stops it in-process
    start = time.perf_counter()
    r = so.solve_constraint(HARD, time_limit=0.3, hidden_singles=False)
    elapsed = time.perf_counter() - start
    assert r.error == "time limit" and not r.solved
    assert 0.3 <= elapsed < 3
    assert 0.3 <= r.seconds < 3


@pytest.mark.parametrize("limit", [0, -1, float("nan")])
def test_time_limit_must_be_positive(limit):
    for fn in so.SOLVERS.values():
        with pytest.raises(PuzzleError, match="time limit must be positive"):
            fn(P1, time_limit=limit)
    with pytest.raises(PuzzleError, match="time limit must be positive"):
        so.solve_many([P1], time_limit=limit)


def test_bad_puzzles():
    for bad in ("123", np.zeros(80, np.int8), np.full(81, 10), np.zeros(81, float)):
        with pytest.raises(PuzzleError):
            so.solve_cpsat(bad)


def test_cpsat_model_is_reused_and_restored():
    # the shared model must come back clean: a puzzle after others is unaffected by their givens
    a = so.solve_cpsat(P1, check_unique=True)
    b = so.solve_cpsat(TWO, check_unique=True)
    c = so.solve_cpsat(EMPTY)
    d = so.solve_cpsat(NO_SOLUTION)
    e = so.solve_cpsat(P1)
    assert a.solved and b.error == "more than one solution" and c.solved and d.error == "no solution"
    assert e.solved and e.solution == S1
    assert so._get_cpsat() is so._get_cpsat()
    assert {"branches", "conflicts"} <= set(a.extra)


def test_result_json():
    r = so.solve_cpsat(P1)
    out = r.to_json()
    assert json.loads(json.dumps(out)) == out
    assert out["task"] == "sudoku" and out["solver"] == "cpsat" and out["solved"] is True
    assert out["puzzle"] == P1 and out["solution"] == S1 and out["verified"] is True
    assert "error" not in out
    bad = so.solve_constraint(NO_SOLUTION).to_json()
    assert bad["solved"] is False and bad["solution"] is None and bad["error"] == "no solution"


# ---------------------------------------------------------------- registry and batches


def test_registry():
    assert set(so.SOLVERS) >= {"cpsat", "constraint"}
    assert so.get_solver("cpsat") is so.solve_cpsat
    with pytest.raises(PuzzleError, match="unknown solver 'nope'; choose from cpsat, constraint"):
        so.get_solver("nope")
    with pytest.raises(PuzzleError, match="unknown solver"):
        so.solve_many([P1], "nope")
    with pytest.raises(PuzzleError, match="unknown solver"):
        so.solve(P1, "nope")
    assert so.solve(P1, "constraint").solution == S1


def _fake_solver(puzzle, time_limit=10.0, check_unique=False):
    g = so.as_grid(puzzle)
    return Result("sudoku", "fake", sd.to_string(g), None, False, 0.0, error=f"fake {time_limit:g}")


def test_registry_takes_a_new_solver(monkeypatch):
    monkeypatch.setitem(so.SOLVERS, "fake", _fake_solver)
    results = list(so.solve_many([P1, EMPTY], "fake", time_limit=3, workers=1))
    assert [r.error for r in results] == ["fake 3", "fake 3"]
    assert [r.puzzle for r in results] == [P1, EMPTY]


@pytest.mark.parametrize("workers", [1, 2])
def test_solve_many_order_and_mixed_outcomes(workers):
    puzzles = [P1, NO_SOLUTION, EMPTY, TWO, S1] * 3
    results = list(so.solve_many(puzzles, "cpsat", workers=workers, check_unique=True))
    assert [r.puzzle for r in results] == puzzles
    assert [r.error for r in results[:5]] == [None, "no solution", "more than one solution", "more than one solution", None]
    assert [r.solved for r in results] == [True, False, False, False, True] * 3


def test_solve_many_checks_input_before_solving():
    with pytest.raises(PuzzleError, match="a Sudoku has 81 cells"):
        so.solve_many([P1, "12"], "cpsat")
    assert list(so.solve_many([], "cpsat")) == []


def test_solve_many_can_be_abandoned():
    start = time.perf_counter()
    stream = so.solve_many([P1, HARD, TWO] * 100, "constraint", workers=2)
    first = next(stream)
    assert first.solved
    stream.close()
    assert list(stream) == []
    assert time.perf_counter() - start < 10


def test_importing_the_oracles_imports_no_solver_library():
    code = (
        "import sys, puzzles.sudoku.oracle\n"
        "bad = [m for m in ('ortools', 'constraint', 'torch') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env={"PYTHONPATH": str(root)})
