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

The time limit holds for the whole solve, the model's building included (checked every
BUILD_CHUNK edges; CP-SAT gets what is left), and a model of more than MAX_EDGES
edges is refused before it is built, with a message naming the limit: memory grows
with the edges (an empty 1500 x 1500 room's 4.5 million took 6.6 GB and 72 s).

OR-tools is imported inside the functions: machines without it can still import this.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

import numpy as np

from puzzles.cpsat import cp_model
from puzzles.limits import time_limit as limit_for
from puzzles.maze.bfs import bfs as _bfs
from puzzles.maze.grid import UNREACHABLE, Maze, to_text, verify
from puzzles.result import Result

TIME_LIMIT = "time limit"
MAX_EDGES = 500_000  # shortest-path edges a CP-SAT model takes: an open room of about 500 x 500 cells (0.9 GB)
BUILD_CHUNK = 10_000  # edges (or cells) built between two looks at the clock


def _edges(maze: Maze) -> tuple[np.ndarray, np.ndarray]:
    """Directed edges (u, v) between 4-neighbouring open cells, cells as flat indices: first each
    left-right pair in row-major order, both ways (u, u + 1), (u + 1, u), then each up-down pair."""
    h, w = maze.shape
    free = ~maze.walls
    cells = np.arange(h * w).reshape(h, w)
    us, vs = [], []
    for near, a, b in ((free[:, :-1] & free[:, 1:], cells[:, :-1], cells[:, 1:]),
                       (free[:-1, :] & free[1:, :], cells[:-1, :], cells[1:, :])):
        u, v = a[near], b[near]
        us.append(np.stack([u, v], 1).ravel())
        vs.append(np.stack([v, u], 1).ravel())
    return np.concatenate(us), np.concatenate(vs)


def shortest_path_edges(maze: Maze, most: int | None = None) -> tuple[list[tuple[int, int]], int, int]:
    """(the edges that lie on some shortest S-G path, the shortest length, how many such edges there are),
    found in memory linear in the cells; no edges and length -1 when G is unreachable, and no edges when
    there are more than `most`."""
    h, w = maze.shape
    free = ~maze.walls.reshape(-1)
    from_s = _bfs(free, h, w, maze.start[0] * w + maze.start[1])
    best = int(from_s[maze.goal[0] * w + maze.goal[1]])
    if best < 0:
        return [], best, 0
    from_g = _bfs(free, h, w, maze.goal[0] * w + maze.goal[1])
    u, v = _edges(maze)
    on = (from_s[u] >= 0) & (from_s[u] + 1 == from_s[v]) & (from_s[v] + from_g[v] == best)
    count = int(on.sum())
    if most is not None and count > most:
        return [], best, count
    return list(zip(u[on].tolist(), v[on].tolist())), best, count


def too_large(edges: int) -> str:
    """Why a maze whose shortest paths span `edges` edges is not given to CP-SAT."""
    side = round((MAX_EDGES / 2) ** 0.5)  # an open room's shortest paths run over about 2 edges a cell
    return (f"too large for the cpsat solver: its shortest paths run over {edges:,} edges, and it takes at most "
            f"{MAX_EDGES:,} (an open room of about {side} x {side} cells)")


def _bfs_path(edges: list[tuple[int, int]], s: int, g: int) -> set[tuple[int, int]]:
    """The edges of one path from S to G through `edges` (every edge on a shortest path), walked back from G."""
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
    and "time limit" when no verified path was found in `time_limit` seconds (building the model
    included); a maze whose model would exceed MAX_EDGES edges is refused, unbuilt (`too_large`).
    extra: path_length (cells, S and G included) and the CP-SAT status.
    """
    cp = cp_model()
    t0 = time.perf_counter()
    deadline = t0 + float(time_limit)
    puzzle = to_text(maze, with_path=False)
    h, w = maze.shape
    s, g = maze.start[0] * w + maze.start[1], maze.goal[0] * w + maze.goal[1]
    name = "UNKNOWN"

    def result(solution: str | None, verified: bool, error: str | None, length: int | None = None) -> Result:
        extra = {"status": name}
        if length is not None:
            extra["path_length"] = length
        return Result("maze", "cpsat", puzzle, solution, verified, time.perf_counter() - t0, error, extra)

    edges, best, count = shortest_path_edges(maze, MAX_EDGES)
    if best < 0:
        return result(None, False, UNREACHABLE)
    if count > MAX_EDGES:
        return result(None, False, too_large(count))
    if time.perf_counter() > deadline:
        return result(None, False, TIME_LIMIT)
    model = cp.CpModel()
    total = cp.LinearExpr.sum
    x = []
    for k in range(0, len(edges), BUILD_CHUNK):
        x += [model.new_bool_var("") for _ in range(min(BUILD_CHUNK, len(edges) - k))]
        if time.perf_counter() > deadline:
            return result(None, False, TIME_LIMIT)
    outs: dict[int, list] = {}
    ins: dict[int, list] = {}
    for (u, v), var in zip(edges, x):
        outs.setdefault(u, []).append(var)
        ins.setdefault(v, []).append(var)
    for k, cell in enumerate(set(outs) | set(ins) | {s, g}):
        supply = 1 if cell == s else -1 if cell == g else 0
        model.add(total(outs.get(cell, [])) - total(ins.get(cell, [])) == supply)
        if k % BUILD_CHUNK == 0 and time.perf_counter() > deadline:
            return result(None, False, TIME_LIMIT)
    # a DAG carries no cycle, so a unit flow is one simple path; the hint is one BFS path, which CP-SAT checks
    hint = _bfs_path(edges, s, g)
    model.proto.solution_hint.vars.extend([var.index for var in x])
    model.proto.solution_hint.values.extend([int(e in hint) for e in edges])
    left = deadline - time.perf_counter()
    if left <= 0:
        return result(None, False, TIME_LIMIT)

    solver = cp.CpSolver()
    solver.parameters.fix_variables_to_their_hinted_value = True
    solver.parameters.max_time_in_seconds = left
    solver.parameters.num_workers = max(1, int(workers))
    status = solver.solve(model)
    name = solver.status_name(status)

    if status == cp.INFEASIBLE:
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


def solve_many(mazes: Iterable[Maze], time_limit: float | None = 10.0, workers: int = 2) -> Iterator[Result]:
    """Results for `mazes`, yielded one by one in input order (so a progress bar can advance); `time_limit`
    per maze (None: each maze's size default, puzzles/limits.py).

    With workers > 1 and more than a couple of mazes, a process pool spreads them over
    the cores; each worker builds its own single-threaded models. The pool is started
    when this is called, not when iteration begins, so call it before starting a live
    display (its thread is then not copied into the workers).
    """
    jobs = [(m, limit_for(time_limit, m.walls.size)) for m in mazes]
    if workers > 1 and len(jobs) > 2:
        cp_model()  # fail here, not in a worker, when OR-tools is missing
    from puzzles.workers import in_order

    return in_order(_solve_job, jobs, workers)


__all__ = ["TIME_LIMIT", "UNREACHABLE", "solve_cpsat", "solve_many"]
