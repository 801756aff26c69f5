"""Exact Sudoku oracles: OR-tools CP-SAT and python-constraint, one `Result` per puzzle.

Every solver here has the signature of `SudokuSolver`: it takes a puzzle (an
81-character string, an int8[81] grid with 0 for blanks, or a `Sudoku`) and
returns a `Result` whose `solved`/`verified` is true only when
`puzzles.sudoku.verify` accepted the solution. A puzzle that is not solved
carries an `error`: "no solution", "more than one solution" (only looked for
with `check_unique=True`) or "time limit".

`SOLVERS` maps a name to a solver; `solve_many` runs one over many puzzles on a
process pool and yields the results in input order. A new solver (say a neural
one) needs one line in `SOLVERS` and a module-level function, so it pickles.

ortools and `constraint` are imported lazily: a machine without one of them can
still use the other.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

import numpy as np

from puzzles.errors import PuzzleError
from puzzles.limits import default_time_limit
from puzzles.result import NO_SOLUTION, SEVERAL_SOLUTIONS, Result
from puzzles.sudoku.grid import CELLS, UNITS, Sudoku, parse, to_string, verify

TASK = "sudoku"
DEFAULT_TIME_LIMIT = 10.0
TIME_LIMIT = "time limit"

PuzzleLike = str | np.ndarray | Sudoku


class SudokuSolver(Protocol):
    """What `SOLVERS` holds: a module-level function (so it pickles) returning a Result.

    It may carry a `prepare()` attribute doing the one-off work (imports, model
    building, loading weights); `solve_many` calls it once in the parent before
    starting workers so that forked workers inherit the result.
    """

    def __call__(self, puzzle: PuzzleLike, time_limit: float = ..., check_unique: bool = ...) -> Result: ...


# ---------------------------------------------------------------- common


def as_grid(puzzle: PuzzleLike) -> np.ndarray:
    """An int8[81] grid (0 = blank) from a string, a grid or a `Sudoku`.

    Text goes through `puzzles.sudoku.parse`, so malformed text or clashing givens
    raise PuzzleError. A grid is only checked for shape and range: clashing givens
    there make an unsolvable puzzle ("no solution").
    """
    if isinstance(puzzle, Sudoku):
        puzzle = puzzle.givens
    if isinstance(puzzle, str):
        return parse(puzzle)
    grid = np.asarray(puzzle)
    if grid.shape != (CELLS,) or not np.issubdtype(grid.dtype, np.integer):
        raise PuzzleError(f"a Sudoku grid is 81 integers, got {grid.dtype} of shape {grid.shape}")
    if ((grid < 0) | (grid > 9)).any():
        raise PuzzleError("a Sudoku grid holds 0 (blank) or 1-9")
    return grid.astype(np.int8)


def _check_time_limit(time_limit: float | None) -> float:
    """Seconds per puzzle: `time_limit`, positive, or for None the default for a Sudoku's size."""
    if time_limit is None:
        return default_time_limit(CELLS)
    time_limit = float(time_limit)
    if not time_limit > 0:  # also rejects NaN
        raise PuzzleError(f"the time limit must be positive, got {time_limit:g}")
    return time_limit


def _finish(
    solver: str, grid: np.ndarray, solution: np.ndarray | None, start: float, error: str | None, **extra
) -> Result:
    """A Result whose `verified` comes from `puzzles.sudoku.verify`, never from the solver's word."""
    verified = False
    if solution is not None and error is None:
        problem = verify(grid, solution)
        verified = problem is None
        if problem:
            error = f"wrong solution: {problem}"
    return Result(
        task=TASK,
        solver=solver,
        puzzle=to_string(grid),
        solution=None if solution is None else to_string(solution),
        verified=verified,
        seconds=time.perf_counter() - start,
        error=error,
        extra=extra,
    )


# ---------------------------------------------------------------- CP-SAT

# 729 Booleans x[9 * cell + digit - 1], exactly one per cell and per unit and digit.
# The model is built once per process; a puzzle fixes its givens by raising the
# lower bound of their Booleans in the model proto, in place, and restores them
# after the solve. Measured on top95 (one core): givens as assumptions on the
# same model took ~13 ms a puzzle (median), a fresh model per puzzle with only the
# candidates ~5 ms, in-place fixing ~3 ms and, with presolve, linearization and
# symmetry detection off, ~2 ms. Var 729 enables a clause that excludes a found
# solution; the uniqueness check rewrites that clause's 81 literals.


class _CpSat:
    def __init__(self) -> None:
        from ortools.sat.python import cp_model

        self.cp_model = cp_model
        m = cp_model.CpModel()
        x = [m.new_bool_var("") for _ in range(CELLS * 9)]
        for c in range(CELLS):
            m.add_exactly_one(x[9 * c : 9 * c + 9])
        for unit in UNITS:
            for d in range(9):
                m.add_exactly_one([x[9 * int(c) + d] for c in unit])
        self.check = m.new_bool_var("")
        # Over all 81 cells: a given's literal is fixed, so it adds nothing to the clause.
        m.add_bool_or([~x[9 * c] for c in range(CELLS)]).only_enforce_if(self.check)
        self.model = m
        self.proto = m.proto
        self.variables = self.proto.variables
        self.exclude = self.proto.constraints[len(self.proto.constraints) - 1].bool_or.literals
        self.check_domain = self.variables[self.check.index].domain
        self.solver = cp_model.CpSolver()
        p = self.solver.parameters
        p.num_workers = 1
        p.cp_model_presolve = False
        p.linearization_level = 0
        p.symmetry_level = 0
        p.log_search_progress = False
        self.lock = threading.Lock()

    def _solve(self, seconds: float):
        self.solver.parameters.max_time_in_seconds = max(seconds, 1e-9)
        return self.solver.solve(self.model)

    def __call__(self, grid: np.ndarray, time_limit: float, check_unique: bool, start: float) -> Result:
        cp = self.cp_model
        deadline = start + time_limit
        g = grid.astype(np.int64)
        givens = np.flatnonzero(g)
        fixed = (9 * givens + g[givens] - 1).tolist()
        extra = {"branches": 0, "conflicts": 0}
        solution = None
        error = None
        with self.lock:
            variables = self.variables
            try:
                for i in fixed:
                    variables[i].domain[0] = 1
                status = self._solve(deadline - time.perf_counter())
                extra["branches"] += self.solver.num_branches
                extra["conflicts"] += self.solver.num_conflicts
                if status in (cp.OPTIMAL, cp.FEASIBLE):
                    values = np.fromiter(self.solver.response_proto.solution, dtype=np.int8, count=CELLS * 9 + 1)
                    solution = (values[: CELLS * 9].reshape(CELLS, 9).argmax(axis=1) + 1).astype(np.int8)
                elif status == cp.INFEASIBLE:
                    error = NO_SOLUTION
                elif status == cp.UNKNOWN:
                    error = TIME_LIMIT
                else:  # MODEL_INVALID: a bug here, not the puzzle's fault
                    error = f"CP-SAT status {self.solver.status_name(status)}"
                if solution is not None and check_unique:
                    for c in range(CELLS):
                        self.exclude[c] = -(9 * c + int(solution[c]) - 1) - 1
                    self.check_domain[0] = 1
                    remaining = deadline - time.perf_counter()
                    status = cp.UNKNOWN
                    if remaining > 0:
                        status = self._solve(remaining)
                        extra["branches"] += self.solver.num_branches
                        extra["conflicts"] += self.solver.num_conflicts
                    if status in (cp.OPTIMAL, cp.FEASIBLE):
                        error = SEVERAL_SOLUTIONS
                    elif status == cp.UNKNOWN:
                        error = TIME_LIMIT
                    elif status != cp.INFEASIBLE:
                        error = f"CP-SAT status {self.solver.status_name(status)}"
                    if error:
                        solution = None
            finally:
                self.check_domain[0] = 0
                for i in fixed:
                    variables[i].domain[0] = 0
        return _finish("cpsat", grid, solution, start, error, **extra)


_cpsat: _CpSat | None = None


def _get_cpsat() -> _CpSat:
    global _cpsat
    if _cpsat is None:
        _cpsat = _CpSat()
    return _cpsat


def solve_cpsat(puzzle: PuzzleLike, time_limit: float = DEFAULT_TIME_LIMIT, check_unique: bool = False) -> Result:
    """Solve with OR-tools CP-SAT (one worker thread, the process's shared model).

    With `check_unique`, a second solve excludes the first solution; finding
    another makes the result unsolved with error "more than one solution".
    `time_limit` (seconds) covers both solves. `seconds` leaves out the one-off
    import and model build (see `prepare`).
    """
    oracle = _get_cpsat()
    start = time.perf_counter()
    grid = as_grid(puzzle)
    time_limit = _check_time_limit(time_limit)
    return oracle(grid, time_limit, check_unique, start)


solve_cpsat.prepare = _get_cpsat  # type: ignore[attr-defined]


# ---------------------------------------------------------------- python-constraint


class _TimeUp(Exception):
    pass


_unit_class = None


def _unit_constraint():
    """AllDifferentConstraint that honours a deadline and, optionally, places hidden singles.

    Built lazily so that importing this module does not import `constraint`.
    """
    global _unit_class
    if _unit_class is not None:
        return _unit_class
    import constraint

    base_call = constraint.AllDifferentConstraint.__call__
    unassigned = constraint.Unassigned
    clock = time.perf_counter

    class Unit(constraint.AllDifferentConstraint):
        """All different, plus: past `deadline` raise _TimeUp; with `hidden_singles`,
        when forward checking, a digit that fits only one free cell of the unit
        becomes that cell's only value (and no place for a digit is a dead end).
        Both are exact: the set of solutions is the plain AllDifferent's.
        """

        def __init__(self, deadline: float, hidden_singles: bool) -> None:
            super().__init__()
            self.deadline = deadline
            self.hidden_singles = hidden_singles

        def __call__(self, variables, domains, assignments, forwardcheck=False, _unassigned=unassigned):
            if clock() > self.deadline:
                raise _TimeUp
            if not base_call(self, variables, domains, assignments, forwardcheck):
                return False
            if not (forwardcheck and self.hidden_singles):
                return True
            placed = set()
            free = []
            for v in variables:
                value = assignments.get(v, _unassigned)
                if value is _unassigned:
                    free.append(domains[v])
                else:
                    placed.add(value)
            for d in range(1, 10):
                if d in placed:
                    continue
                home = None
                for domain in free:
                    if d in domain:
                        if home is not None:
                            break
                        home = domain
                else:
                    if home is None:
                        return False
                    if len(home) > 1:
                        for other in [v for v in home if v != d]:
                            home.hideValue(other)
            return True

    _unit_class = Unit
    return Unit


def solve_constraint(
    puzzle: PuzzleLike,
    time_limit: float = DEFAULT_TIME_LIMIT,
    check_unique: bool = False,
    hidden_singles: bool = True,
) -> Result:
    """Solve with python-constraint: 81 variables (givens as one-value domains), 27 all-different units.

    The solver is the library's BacktrackingSolver (forward checking, dynamic
    minimum-remaining-values order); its default OptimizedBacktrackingSolver orders
    variables once, statically, and times out on most of top95. The units are
    AllDifferentConstraints that also place hidden singles when forward checking
    (exact; `hidden_singles=False` gives the plain constraint, about 10x slower on
    top95, one puzzle there above 5 s) and check the deadline on every call, so a
    search past `time_limit` stops with error "time limit" in this process.
    """
    Unit = _unit_constraint()
    import constraint

    start = time.perf_counter()
    grid = as_grid(puzzle)
    time_limit = _check_time_limit(time_limit)
    deadline = start + time_limit
    problem = constraint.Problem(constraint.BacktrackingSolver())
    for c in range(CELLS):
        problem.addVariable(c, [int(grid[c])] if grid[c] else list(range(1, 10)))
    for unit in UNITS:
        problem.addConstraint(Unit(deadline, hidden_singles), [int(c) for c in unit])
    solution = None
    error = None
    try:
        found = problem.getSolutionIter()
        first = next(found, None)
        if first is None:
            error = NO_SOLUTION
        else:
            solution = np.array([first[c] for c in range(CELLS)], dtype=np.int8)
            if check_unique and next(found, None) is not None:
                error = SEVERAL_SOLUTIONS
                solution = None
    except _TimeUp:
        error = TIME_LIMIT
        solution = None
    return _finish("constraint", grid, solution, start, error)


solve_constraint.prepare = _unit_constraint  # type: ignore[attr-defined]


# ---------------------------------------------------------------- registry and batches

SOLVERS: dict[str, SudokuSolver] = {
    "cpsat": solve_cpsat,
    "constraint": solve_constraint,
}


def get_solver(name: str) -> SudokuSolver:
    try:
        return SOLVERS[name]
    except KeyError:
        raise PuzzleError(f"unknown solver {name!r}; choose from {', '.join(SOLVERS)}") from None


def solve(
    puzzle: PuzzleLike, solver: str = "cpsat", time_limit: float = DEFAULT_TIME_LIMIT, check_unique: bool = False
) -> Result:
    """One puzzle with the named solver, in this process."""
    return get_solver(solver)(puzzle, time_limit=time_limit, check_unique=check_unique)


def _solve_job(job: tuple) -> Result:
    solver, grid, time_limit, check_unique = job
    fn = SOLVERS[solver] if isinstance(solver, str) else solver
    return fn(grid, time_limit=time_limit, check_unique=check_unique)


def _mp_context():
    # fork is the cheapest start (the parent's imports and compiled search come
    # along) and safe here; a parent that holds torch's thread pools, or a platform
    # without a safe fork, gets the forkserver/spawn default instead.
    methods = multiprocessing.get_all_start_methods()
    if sys.platform == "linux" and "fork" in methods and "torch" not in sys.modules:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def solve_many(
    puzzles: Iterable[PuzzleLike],
    solver: str | Callable[..., Result] = "cpsat",
    time_limit: float = DEFAULT_TIME_LIMIT,
    workers: int = 2,
    check_unique: bool = False,
    chunk: int | None = None,
) -> Iterator[Result]:
    """Solve every puzzle; the iterator yields Results in input order as they complete.

    `solver` is a name in SOLVERS (or a picklable module-level function). With
    `workers` > 1 the puzzles go to a process pool of that many processes, each
    solve single-threaded; `workers=1` solves in this process, lazily. The work is
    checked and started before this returns: bad input raises PuzzleError here and
    the workers exist before the caller starts, say, a live progress display.
    Closing the iterator early (or Ctrl-C while iterating) stops the workers. `chunk`: puzzles sent to a
    worker at once (None: up to 8, fewer for a small batch; 1 yields each result as soon as it and those
    before it are in).
    """
    fn = get_solver(solver) if isinstance(solver, str) else solver
    time_limit = _check_time_limit(time_limit)
    grids = [as_grid(p) for p in puzzles]
    jobs = [(solver, g, time_limit, check_unique) for g in grids]
    workers = max(1, min(int(workers), len(jobs)))
    prepare = getattr(fn, "prepare", None)
    if prepare is not None and jobs:
        prepare()
    if workers == 1:
        return (_solve_job(job) for job in jobs)
    from puzzles import workers as processes

    chunk = chunk or max(1, min(8, len(jobs) // (8 * workers)))
    # its workers ignore Ctrl-C (the parent cancels the batch and ends them) and end with this process
    pool = processes.pool(workers, mp_context=_mp_context())
    try:
        results = pool.map(_solve_job, jobs, chunksize=chunk)  # submits every job now
    except BaseException:
        _stop(pool)
        raise
    return _Batch(pool, results)


class _Batch:
    """The results of a pool's batch, in order; closing it (or dropping it) stops the workers."""

    def __init__(self, pool, results: Iterator[Result]) -> None:
        self._pool = pool
        self._results = results

    def __iter__(self) -> _Batch:
        return self

    def __next__(self) -> Result:
        if self._pool is None:
            raise StopIteration
        try:
            return next(self._results)
        except StopIteration:
            self._pool.shutdown(wait=True)
            self._pool = None
            raise
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            _stop(pool)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def _stop(pool) -> None:
    """Abandon a batch (Ctrl-C, an error, the caller stopped early) without waiting for queued puzzles."""
    from puzzles.workers import stop

    stop(pool)


__all__ = [
    "DEFAULT_TIME_LIMIT", "NO_SOLUTION", "SEVERAL_SOLUTIONS", "SOLVERS", "TIME_LIMIT", "SudokuSolver", "as_grid",
    "get_solver", "solve", "solve_constraint", "solve_cpsat", "solve_many",
]
