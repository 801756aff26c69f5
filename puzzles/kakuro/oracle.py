"""The exact Kakuro oracle: OR-tools CP-SAT, one `Result` per puzzle.

`domains` first narrows each white cell to the digits its two runs allow (a 2-cell run summing to 3
holds only 1 and 2), its given where it has one, taking decided cells out of their runs' sums, until
nothing changes: cheap, and it decides outright most cells the clues and givens force. The model then
has one integer variable per undecided cell and, per run, an AllDifferent and a sum; a cell left with
no digit means no solution, without a solve. Presolve is off: on these small models it costs more
than it saves (a few times, measured on 16x16 uniqueness checks).

With `check_unique`, a second solve forbids the first answer (some cell must differ) and finding one
makes the puzzle unsolved with "more than one solution"; errors are worded as the Sudoku oracles word
them. A solve is single-threaded (so deterministic: the generator relies on it) and the time limit
covers both solves. `solved` is true only when `grid.verify` accepted the answer.

OR-tools is imported inside the functions, so `puzzles` imports without it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from functools import cache

import numpy as np

from puzzles.cpsat import cp_model
from puzzles.errors import UserError
from puzzles.kakuro.grid import Kakuro, to_text, verify
from puzzles.limits import time_limit as limit_for
from puzzles.result import NO_SOLUTION, SEVERAL_SOLUTIONS, Result

TASK = "kakuro"
DEFAULT_TIME_LIMIT = 10.0
TIME_LIMIT = "time limit"
FOUND = "found"


@cache
def digits_for(length: int, total: int, taken: frozenset[int] = frozenset()) -> frozenset[int]:
    """The digits that some set of `length` different digits 1-9, none of them `taken`, adding up to
    `total` holds (empty when there is no such set)."""
    free = [d for d in range(1, 10) if d not in taken]
    return frozenset(d for combo in itertools.combinations(free, length) if sum(combo) == total for d in combo)


def domains(k: Kakuro) -> dict[tuple[int, int], set[int]]:
    """Each white cell's possible digits: its given, or what its runs allow, to a fixed point: a run's
    undecided cells take only digits that some set of different digits, apart from the run's decided
    ones, meeting the rest of its sum holds. An empty set: no solution."""
    out = {(int(r), int(c)): set(range(1, 10)) for r, c in np.argwhere(k.white)}
    for cell, d in out.items():
        if k.digits[cell]:
            d &= {int(k.digits[cell])}
    changed = True
    while changed:
        changed = False
        for run in k.runs:
            decided = [next(iter(out[cell])) for cell in run.cells if len(out[cell]) == 1]
            taken = frozenset(decided)
            if len(taken) < len(decided):
                out[run.cells[0]].clear()  # a digit twice in the run
                return out
            allowed = digits_for(len(run.cells) - len(decided), run.total - sum(decided), taken)
            for cell in run.cells:
                if len(out[cell]) > 1 and not out[cell] <= allowed:
                    out[cell] &= allowed
                    changed = True
                    if not out[cell]:
                        return out
    return out


def find(k: Kakuro, time_limit: float, avoid: np.ndarray | None = None) -> tuple[str, np.ndarray | None, dict]:
    """(FOUND / NO_SOLUTION / TIME_LIMIT, an answer (int8 (H, W)) or None, CP-SAT's counters): one solve,
    for an answer other than `avoid` when it is given. Only the cells `domains` leaves undecided are
    variables; a decided cell is a constant in its runs."""
    cp = cp_model()
    dom = domains(k)
    none = {"branches": 0, "conflicts": 0}
    if any(not d for d in dom.values()):
        return NO_SOLUTION, None, none
    answer = np.zeros(k.shape, np.int8)
    for cell, d in dom.items():
        if len(d) == 1:
            answer[cell] = next(iter(d))
    free = [cell for cell, d in dom.items() if len(d) > 1]
    if avoid is not None and not free:  # every cell is decided: no other answer
        return NO_SOLUTION, None, none
    model = cp.CpModel()
    x = {cell: model.new_int_var_from_domain(cp.Domain.from_values(sorted(dom[cell])), "") for cell in free}
    for run in k.runs:
        cells = [x[cell] for cell in run.cells if cell in x]
        if cells:
            model.add_all_different(cells)
            model.add(sum(cells) == run.total - sum(int(answer[cell]) for cell in run.cells if cell not in x))
    if avoid is not None:
        differs = [model.new_bool_var("") for _ in free]
        for cell, b in zip(free, differs):
            model.add(x[cell] != int(avoid[cell])).only_enforce_if(b)
            model.add_hint(x[cell], int(avoid[cell]))  # look near it: the other answer differs in few cells
        model.add_bool_or(differs)
    solver = cp.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.cp_model_presolve = False
    solver.parameters.max_time_in_seconds = max(float(time_limit), 1e-3)
    status = solver.solve(model)
    counters = {"branches": solver.num_branches, "conflicts": solver.num_conflicts}
    if status in (cp.OPTIMAL, cp.FEASIBLE):
        for cell, var in x.items():
            answer[cell] = solver.value(var)
        return FOUND, answer, counters
    if status == cp.INFEASIBLE:
        return NO_SOLUTION, None, counters
    if status == cp.UNKNOWN:
        return TIME_LIMIT, None, counters
    raise RuntimeError(f"CP-SAT status {solver.status_name(status)}")  # a bug in the model, not the puzzle's fault


def solve(k: Kakuro, time_limit: float = DEFAULT_TIME_LIMIT, check_unique: bool = True) -> Result:
    """A verified answer for `k`, or an unsolved Result saying why (no solution, more than one solution,
    time limit). `extra` holds CP-SAT's branches and conflicts over both solves."""
    if not time_limit > 0:
        raise UserError(f"the time limit must be positive, got {time_limit:g}")
    cp_model()  # the one-off import is not the puzzle's time
    start = time.perf_counter()
    status, answer, extra = find(k, time_limit)
    if status == FOUND and check_unique:
        status, _, more = find(k, start + time_limit - time.perf_counter(), avoid=answer)
        extra = {key: extra[key] + more[key] for key in extra}
        status = {FOUND: SEVERAL_SOLUTIONS, NO_SOLUTION: FOUND}.get(status, status)
    error = None if status == FOUND else status
    if error is None:
        problem = verify(k, answer)
        if problem:
            error = f"wrong solution: {problem}"
    solution = None if error else to_text(k.with_digits(answer))
    return Result(TASK, "cpsat", to_text(k), solution, error is None, time.perf_counter() - start, error, extra)


def count(k: Kakuro, time_limit: float = DEFAULT_TIME_LIMIT) -> tuple[int | None, np.ndarray | None]:
    """(0, 1 or 2 meaning "two or more", or None when the time ran out; the answer when there is one)."""
    start = time.perf_counter()
    status, answer, _ = find(k, time_limit)
    if status != FOUND:
        return (0 if status == NO_SOLUTION else None), None
    status, _, _ = find(k, start + time_limit - time.perf_counter(), avoid=answer)
    return {FOUND: 2, NO_SOLUTION: 1}.get(status), answer


def _solve_job(job: tuple[Kakuro, float, bool]) -> Result:
    return solve(*job)


def solve_many(puzzles: Iterable[Kakuro], time_limit: float | None = DEFAULT_TIME_LIMIT, workers: int = 2,
               check_unique: bool = True) -> Iterator[Result]:
    """Results in input order, one by one (a progress bar can follow); `time_limit` per puzzle (None: each one's
    size default, puzzles/limits.py). With workers > 1 and more than a couple of puzzles a process pool shares
    them out; it starts when this is called, so call it before a live display starts (its thread is then not
    copied into the workers)."""
    if time_limit is not None and not time_limit > 0:
        raise UserError(f"the time limit must be positive, got {time_limit:g}")
    jobs = [(k, limit_for(time_limit, k.white.size), check_unique) for k in puzzles]
    if workers > 1 and len(jobs) > 2:
        cp_model()  # fail here, not in a worker, when OR-tools is missing
    from puzzles.workers import in_order

    return in_order(_solve_job, jobs, workers)
