"""Exact maze oracle: a shortest S-G path as a unit flow in CP-SAT (OR-tools).

BFS from S and from G first: the goal is unreachable exactly when BFS says so (no
model is built), and an edge u -> v lies on some shortest path exactly when
dist_S(u) + 1 = dist_S(v) and dist_S(v) + dist_G(v) = the shortest length. The
model keeps one boolean per such edge (a DAG, so every flow in it is a shortest
path); one unit of flow leaves S, reaches G and is conserved elsewhere. A free
search of that model still stalls on large open rooms (an empty 100 x 100 room
hit a 20 s limit), so the variables are fixed to one BFS path as a hint and CP-SAT
checks that it is a flow of the model: the answer is BFS's, confirmed by the flow
model and then by `maze.verify`, in linear time on any size (an empty 200 x 200
room in a few seconds, most of it building the model).

OR-tools is imported inside the functions: machines without it can still import this.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

import numpy as np

from puzzles.cpsat import cp_model
from puzzles.maze.grid import UNREACHABLE, Maze, distances, to_text, verify
from puzzles.result import Result

TIME_LIMIT = "time limit"



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


def _bfs_path(edges: list[tuple[int, int]], from_s: np.ndarray, s: int, g: int, best: int) -> set[tuple[int, int]]:
    """The edges of one path from S to G through `edges` (every edge on a shortest path), walked back from G."""
    if best < 0:
        return set()
    into: dict[int, int] = {}
    for u, v in edges:
        into.setdefault(v, u)
    path, cell = set(), g
    while cell != s:
        path.add((into[cell], cell))
        cell = into[cell]
    return path


def solve_cpsat(maze: Maze, time_limit: float = 10.0, workers: int = 1) -> Result:
    """A verified shortest path for `maze`, or an unsolved Result saying why.

    error is UNREACHABLE when the model is infeasible
    and "time limit" when no verified path was found in `time_limit` seconds.
    extra: path_length (cells, S and G included) and the CP-SAT status.
    """
    cp = cp_model()
    t0 = time.perf_counter()
    puzzle = to_text(maze, with_path=False)
    h, w = maze.shape
    s, g = maze.start[0] * w + maze.start[1], maze.goal[0] * w + maze.goal[1]

    from_s = distances(maze, maze.start).reshape(-1)
    from_g = distances(maze, maze.goal).reshape(-1)
    best = int(from_s[g])
    model = cp.CpModel()
    total = cp.LinearExpr.sum
    edges = [(u, v) for u, v in _edges(maze)
             if best >= 0 and from_s[u] + 1 == from_s[v] and from_s[v] + from_g[v] == best]
    x = [model.new_bool_var(f"e{u}_{v}") for u, v in edges]
    outs: dict[int, list] = {}
    ins: dict[int, list] = {}
    for (u, v), var in zip(edges, x):
        outs.setdefault(u, []).append(var)
        ins.setdefault(v, []).append(var)
    for cell in set(outs) | set(ins) | {s, g}:
        supply = 1 if cell == s else -1 if cell == g else 0
        model.add(total(outs.get(cell, [])) - total(ins.get(cell, [])) == supply)
    # a DAG carries no cycle, so a unit flow is one simple path; the hint is one BFS path, which CP-SAT checks
    hint = _bfs_path(edges, from_s, s, g, best)
    for (u, v), var in zip(edges, x):
        model.add_hint(var, (u, v) in hint)

    solver = cp.CpSolver()
    solver.parameters.fix_variables_to_their_hinted_value = True
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = max(1, int(workers))
    status = solver.solve(model)
    name = solver.status_name(status)

    def result(solution: str | None, verified: bool, error: str | None, length: int | None = None) -> Result:
        extra = {"status": name}
        if length is not None:
            extra["path_length"] = length
        return Result("maze", "cpsat", puzzle, solution, verified, time.perf_counter() - t0, error, extra)

    if best < 0 or status == cp.INFEASIBLE:
        return result(None, False, UNREACHABLE)
    if status not in (cp.OPTIMAL, cp.FEASIBLE):
        return result(None, False, TIME_LIMIT if status == cp.UNKNOWN else f"CP-SAT status {name}")

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
        error = TIME_LIMIT if status == cp.FEASIBLE else f"the CP-SAT path failed verification: {problem}"
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
    cp_model()  # fail here, not in a worker, when OR-tools is missing
    from puzzles import workers as processes

    workers = min(workers, len(mazes))
    pool = processes.pool(workers)  # its workers end with this process
    try:
        results = pool.map(_solve_job, [(m, time_limit) for m in mazes], chunksize=1)  # each as it is in
    except BaseException:
        processes.stop(pool)
        raise
    return processes.stopped_on_error(pool, results)


__all__ = ["TIME_LIMIT", "UNREACHABLE", "solve_cpsat", "solve_many"]
