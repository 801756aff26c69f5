"""Benchmarking solvers on one puzzle set: load the set, run each solver, summarize per solver.

Puzzle sets come from a file or a generator spec:
- Sudoku: `gen:DIFFICULTY:N[:seed=S]`, e.g. `gen:hard:1000:seed=1`;
- mazes: `gen:KIND:N[:size=Z][:min_path=L][:seed=S]`, e.g. `gen:open:1000:size=30:min_path=110`.
Generator seeds are offset by GEN_SEED_OFFSET, a range no training pool or held-out
set uses, so a benchmark never scores puzzles a model was trained on.

Every solver yields `Result`s (verified or not); `summarize` turns one solver's results
into a row: solve rate with a Wilson 95% interval, cell accuracy against a reference
answer (for mazes with several shortest paths, against one of them: a lower bound),
mean steps and retractions, median and p95 seconds, throughput, parameters, FLOPs.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from puzzles import maze as mz
from puzzles import sudoku as sd
from puzzles.errors import UserError
from puzzles.result import Result

GEN_SEED_OFFSET = 20_000_000
NEURAL = ("loopmdm", "ar", "hrm")
ORACLES = {"sudoku": ("cpsat", "constraint"), "maze": ("cpsat",)}


@dataclass
class PuzzleSet:
    task: str
    puzzles: list  # Sudoku grids (int8 81) or Maze objects
    references: list  # the same as solved answers: Sudoku int 81 grids, maze bool path masks
    name: str = ""


def _spec(spec: str) -> tuple[str, int, dict]:
    parts = spec.split(":")
    if len(parts) < 3 or parts[0] != "gen":
        raise UserError(f"bad generator spec {spec!r}; expected gen:KIND:N[:key=value...]")
    try:
        n = int(parts[2])
        opts = {k: int(v) for k, v in (p.split("=", 1) for p in parts[3:])}
    except ValueError:
        raise UserError(f"bad generator spec {spec!r}; N and every key=value must be integers") from None
    if n < 1:
        raise UserError(f"bad generator spec {spec!r}: N must be at least 1")
    return parts[1], n, opts


def load(task: str, source: str, limit: int | None = None, on_progress: Callable[[int], None] | None = None) -> PuzzleSet:
    """A puzzle set from a file or a `gen:` spec, with reference answers (computed where the source has none)."""
    if task not in ORACLES:
        raise UserError(f"unknown task {task!r}; choose from {', '.join(ORACLES)}")
    if source.startswith("gen:"):
        kind, n, opts = _spec(source)
        n = min(n, limit or n)
        seed = GEN_SEED_OFFSET + opts.pop("seed", 0)
        if task == "sudoku":
            if opts:
                raise UserError(f"unknown Sudoku generator option(s): {', '.join(opts)}")
            made = list(sd.generate(n, kind, seed=seed, workers=2))
            return PuzzleSet(task, [s.givens for s in made], [s.solution for s in made], source)
        unknown = set(opts) - {"size", "min_path"}
        if unknown:
            raise UserError(f"unknown maze generator option(s): {', '.join(sorted(unknown))}")
        mazes = mz.generate(n, opts.get("size", 15), kind=kind, min_path=opts.get("min_path"), seed=seed)
        return PuzzleSet(task, mazes, [mz.path_mask(mz.solve(m)) for m in mazes], source)
    if task == "sudoku":
        items = sd.read_file(source)[:limit]
        refs = []
        for k, s in enumerate(items):
            refs.append(_sudoku_reference(s.givens, f"{source}: puzzle {k + 1}", s.solution))
            if on_progress:
                on_progress(k + 1)
        return PuzzleSet(task, [s.givens for s in items], refs, source)
    mazes = mz.read_file(source)[:limit]
    return PuzzleSet(task, mazes, [None if mz.shortest_path(m) is None else mz.path_mask(mz.solve(m)) for m in mazes], source)


def _sudoku_reference(grid: np.ndarray, where: str, given: np.ndarray | None = None) -> np.ndarray:
    """The one solution of `grid` (`given`, when the file has it); UserError when it has none or
    several (a verified answer to such a puzzle would not be "the" answer the benchmark scores)."""
    from puzzles.sudoku_search import search

    n, _, sol = search(grid, 2)
    if n != 1:
        raise UserError(f"{where} has {'no solution' if n == 0 else 'several solutions'}; a benchmark "
                        "scores puzzles with exactly one")
    return given if given is not None else sol


@dataclass
class Run:
    solver: str
    results: list[Result]
    wall: float
    params: int | None = None
    flops_per_step: float | None = None  # one forward pass for one puzzle at the loops used
    extra: dict = field(default_factory=dict)


def run(solver: str, pset: PuzzleSet, sampler: dict, time_limit: float, checkpoint_dir=None, device=None,
        on_result: Callable[[Result], None] | None = None) -> Run:
    """Run one solver over the set (neural: batched; oracles: both cores), calling on_result per puzzle."""
    start = time.perf_counter()
    results: list[Result] = []
    params = flops = None
    if solver in NEURAL:
        from csp_diffusion.sampler import SamplerConfig
        from csp_diffusion.solver import NeuralSolver

        checkpoint = None
        if checkpoint_dir is not None:
            checkpoint = checkpoint_dir / f"{pset.task}-{solver}.safetensors"
        ns = NeuralSolver(solver, pset.task, checkpoint, device, SamplerConfig(**sampler))
        params = ns.params
        shape = (9, 9) if pset.task == "sudoku" else pset.puzzles[0].shape
        st = ns.task.structure(shape)
        neighbours = st.neighbours.shape[1] if st.neighbours is not None else int(st.adjacency.sum(1).mean())
        flops = ns.model.flops(ns.plan(shape, ns.task.encode(pset.puzzles[0])[0]).loops, st.positions.shape[0], neighbours)
        stream: Iterator[Result] = _neural_stream(ns, pset)
    elif solver in ORACLES[pset.task]:
        if pset.task == "sudoku":
            from puzzles import sudoku_oracle

            stream = sudoku_oracle.solve_many(pset.puzzles, solver, time_limit=time_limit, workers=2)
        else:
            from puzzles import maze_oracle

            stream = maze_oracle.solve_many(pset.puzzles, time_limit, workers=2)
    else:
        raise UserError(f"unknown solver {solver!r} for {pset.task}; choose from "
                        f"{', '.join((*NEURAL, *ORACLES[pset.task]))}")
    for r in stream:
        results.append(r)
        if on_result:
            on_result(r)
    return Run(solver, results, time.perf_counter() - start, params, flops)


def _neural_stream(ns, pset: PuzzleSet) -> Iterator[Result]:
    if pset.task == "sudoku":
        yield from ns.solve(pset.puzzles)
        return
    todo = [m for m, ref in zip(pset.puzzles, pset.references) if ref is not None]
    stream = ns.solve(todo)
    for m, ref in zip(pset.puzzles, pset.references):
        yield next(stream) if ref is not None else Result("maze", ns.name, mz.to_text(m), None, False, 0.0,
                                                          "the goal cannot be reached from the start")


def _answer(task: str, r: Result):
    text = r.solution or r.extra.get("final")
    if text is None:
        return None
    if task == "sudoku":
        return np.array([int(ch) if ch.isdigit() else 0 for ch in text], dtype=np.int64)  # may hold clashes
    return mz.path_mask(mz.parse(text))


def cell_accuracy(pset: PuzzleSet, results: list[Result]) -> float | None:
    """Fraction of the unknown cells (mazes: open cells) whose answer matches the reference."""
    right = total = 0
    for p, ref, r in zip(pset.puzzles, pset.references, results):
        if ref is None:
            continue
        got = _answer(pset.task, r)
        if pset.task == "sudoku":
            unknown = np.asarray(p) == 0
            total += int(unknown.sum())
            if got is not None:
                right += int((got[unknown] == np.asarray(ref)[unknown]).sum())
        else:
            free = ~p.walls
            free[p.start] = free[p.goal] = False
            total += int(free.sum())
            right += int(((got if got is not None else np.zeros_like(ref)) == ref)[free].sum())
    return right / total if total else None


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion k / n."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def summarize(pset: PuzzleSet, run_: Run) -> dict:
    rs = run_.results
    n = len(rs)
    solved = sum(r.solved for r in rs)
    lo, hi = wilson(solved, n)
    secs = sorted(r.seconds for r in rs)
    steps = [r.extra["steps"] for r in rs if "steps" in r.extra]
    retractions = [r.extra["retractions"] for r in rs if "retractions" in r.extra]
    mean_steps = statistics.fmean(steps) if steps else None
    return {
        "task": pset.task, "puzzles_from": pset.name, "solver": run_.solver, "puzzles": n, "solved": solved,
        "solve_rate": solved / n if n else 0.0, "ci95_low": lo, "ci95_high": hi,
        "cell_accuracy": cell_accuracy(pset, rs),
        "mean_steps": mean_steps, "mean_retractions": statistics.fmean(retractions) if retractions else None,
        "median_seconds": statistics.median(secs) if secs else None,
        "p95_seconds": secs[min(n - 1, math.ceil(0.95 * n) - 1)] if secs else None,
        "puzzles_per_second": n / run_.wall if run_.wall > 0 else None,
        "params": run_.params,
        "flops_per_puzzle": run_.flops_per_step * mean_steps if run_.flops_per_step and mean_steps else None,
    }
