"""Exact maze oracle: a shortest S-G path as a unit flow in CP-SAT (OR-tools).

One boolean per directed edge between open neighbours; one unit of flow leaves S,
reaches G and is conserved elsewhere (each cell entered at most once); the number
of used edges is minimised. The path is read back by following the flow from S and
is returned as solved only when `maze.verify` accepts it (BFS length included).

OR-tools is imported inside the functions: machines without it can still import this.
"""

from __future__ import annotations

import time
from typing import Iterable, Iterator

import numpy as np

from puzzles.errors import UserError
from puzzles.maze import Maze, to_text, verify
from puzzles.result import Result

UNREACHABLE = "the goal cannot be reached from the start"
TIME_LIMIT = "time limit"


def _cp_model():
    try:
        from ortools.sat.python import cp_model
    except ImportError:  # pragma: no cover - depends on the machine
        raise UserError("the cpsat solver needs OR-tools: pip install ortools") from None
    return cp_model


def _edges(maze: Maze) -> list[tuple[int, int]]:
    """Directed edges (u, v) between 4-neighbouring open cells, cells as flat indices."""
    h, w = maze.shape
    free = ~maze.walls
    out = []
    right = free[:, :-1] & free[:, 1:]
    down = free[:-1, :] & free[1:, :]
    for r, c in np.argwhere(right).tolist():
        u = r * w + c
        out += [(u, u + 1), (u + 1, u)]
    for r, c in np.argwhere(down).tolist():
        u = r * w + c
        out += [(u, u + w), (u + w, u)]
    return out


def solve_cpsat(maze: Maze, time_limit: float = 10.0, workers: int = 1) -> Result:
    """A verified shortest path for `maze`, or an unsolved Result saying why.

    error is "the goal cannot be reached from the start" when the model is infeasible
    and "time limit" when no verified path was found in `time_limit` seconds.
    extra: path_length (cells, S and G included) and the CP-SAT status.
    """
    cp_model = _cp_model()
    t0 = time.perf_counter()
    puzzle = to_text(maze, with_path=False)
    h, w = maze.shape
    s, g = maze.start[0] * w + maze.start[1], maze.goal[0] * w + maze.goal[1]

    model = cp_model.CpModel()
    total = cp_model.LinearExpr.sum
    edges = [(u, v) for u, v in _edges(maze) if v != s and u != g]  # nothing enters S or leaves G
    x = [model.new_bool_var(f"e{u}_{v}") for u, v in edges]
    outs: dict[int, list] = {}
    ins: dict[int, list] = {}
    for (u, v), var in zip(edges, x):
        outs.setdefault(u, []).append(var)
        ins.setdefault(v, []).append(var)
    for cell in set(outs) | set(ins) | {s, g}:
        supply = 1 if cell == s else -1 if cell == g else 0
        model.add(total(outs.get(cell, [])) - total(ins.get(cell, [])) == supply)
        if len(ins.get(cell, [])) > 1:
            model.add(total(ins[cell]) <= 1)  # a simple path enters each cell at most once
    model.minimize(total(x))

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = max(1, int(workers))
    status = solver.solve(model)
    name = solver.status_name(status)

    def result(solution: str | None, verified: bool, error: str | None, length: int | None = None) -> Result:
        extra = {"status": name}
        if length is not None:
            extra["path_length"] = length
        return Result("maze", "cpsat", puzzle, solution, verified, time.perf_counter() - t0, error, extra)

    if status == cp_model.INFEASIBLE:
        return result(None, False, UNREACHABLE)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return result(None, False, TIME_LIMIT if status == cp_model.UNKNOWN else f"CP-SAT status {name}")

    nxt = {u: v for (u, v), var in zip(edges, x) if solver.boolean_value(var)}
    path = np.zeros(h * w, dtype=bool)
    cell, steps = s, 0
    while cell != g and cell in nxt and steps <= h * w:
        cell, steps = nxt[cell], steps + 1
        path[cell] = True
    path[g] = False
    path = path.reshape(h, w)
    problem = verify(maze, path)
    if problem is not None:
        error = TIME_LIMIT if status == cp_model.FEASIBLE else f"the CP-SAT path failed verification: {problem}"
        return result(None, False, error)
    solved = maze.with_path(path)
    return result(to_text(solved), True, None, int(path.sum()) + 2)


def _solve_job(args: tuple[Maze, float]) -> Result:
    maze, time_limit = args
    return solve_cpsat(maze, time_limit)


def solve_many(mazes: Iterable[Maze], time_limit: float = 10.0, workers: int = 2) -> Iterator[Result]:
    """Results for `mazes`, yielded one by one in input order (so a progress bar can advance).

    With workers > 1 and more than a couple of mazes, a process pool spreads them over
    the cores; each worker builds its own single-threaded models. The pool is started
    when this is called, not when iteration begins, so call it before starting a live
    display (its thread is then not copied into the workers).
    """
    mazes = list(mazes)
    if workers <= 1 or len(mazes) <= 2:
        return (solve_cpsat(m, time_limit) for m in mazes)
    _cp_model()  # fail here, not in a worker, when OR-tools is missing
    from concurrent.futures import ProcessPoolExecutor

    workers = min(workers, len(mazes))
    chunk = max(1, min(16, len(mazes) // (workers * 8)))
    pool = ProcessPoolExecutor(workers)
    try:
        results = pool.map(_solve_job, [(m, time_limit) for m in mazes], chunksize=chunk)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    return _drain(pool, results)


def _drain(pool, results: Iterator[Result]) -> Iterator[Result]:
    try:
        yield from results
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


__all__ = ["TIME_LIMIT", "UNREACHABLE", "solve_cpsat", "solve_many"]
