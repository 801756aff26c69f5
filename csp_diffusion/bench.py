"""Benchmarking solvers on one puzzle set: load the set, run each solver, summarize per solver.

Puzzle sets come from a file or a generator spec `gen:KIND:N[:key=value...]`, which the task
reads (Sudoku: `gen:hard:1000:seed=1`; mazes: `gen:open:1000:size=30:min_path=110:seed=1`; Kakuro:
`gen:kakuro:100:size=8:seed=1`).
Generator seeds come from the benchmark's own stream (`puzzles.seeds`), apart from every
training pool and held-out set, so a benchmark never scores puzzles a model was trained on.

A puzzle without the one answer a benchmark scores (a Sudoku with no solution or several, a maze
whose goal cannot be reached) has no reference: a neural or guided solver is told so without
running, and every row counts such puzzles apart (`no_solution`), neither solved nor missed.

Every solver yields `Result`s (verified or not); `summarize` turns one solver's results
into a row: solve rate with a Wilson 95% interval (over the puzzles with a reference), cell accuracy
against a reference answer (the task scores it; a verified answer counts every cell right, so a
maze path as short as the reference but another one is not marked down), mean steps and
retractions, a guided search's nodes against the same search without the model, median and p95
seconds, start-up (loading the model; an oracle's worker pool: the first result's arrival less its own
solve time, which a chunk of several puzzles per worker overstates by the rest of that chunk) and
throughput after it, parameters, the model's training FLOPs, and forward FLOPs per puzzle (counted from
each puzzle's own passes and loops, over all its chains); a neural row names its decoder and whether
that decoder used the puzzle's rules. `matched` marks the neural rows whose
training FLOPs are within 10% of the most-trained neural row's: only those compare architectures.

Every row records its budget: `budget` is "steps" (a neural solver's step limit alone, `max_steps`
model calls per chain, or a decoder's fixed count where `max_steps` is None: argmax, AR; no time limit:
its results do not depend on the machine's load), "steps and
time" (a step limit and `time_limit` seconds of its own work per puzzle), "time" (an exact solver's
`time_limit`; None: each puzzle's size default, puzzles/limits.py) or "search" (the hybrid: a complete
search, unlimited); `timed_out` counts the puzzles given up at the time limit.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from csp_diffusion.models import MODELS, kind_of, runs_on
from puzzles.contract import EXACT, HYBRID, Task, capable, neural
from puzzles.errors import UserError
from puzzles.result import Result
from puzzles.seeds import stream


@dataclass
class PuzzleSet:
    task: Task  # the task object (rows record its name)
    puzzles: list  # whatever the task encodes (Sudoku grids, Maze objects)
    references: list  # one answer per puzzle, as the task scores it; None where there is none
    name: str = ""


def _spec(spec: str) -> tuple[str, int, dict]:
    MAX_PUZZLES = 1_000_000  # the most puzzles a gen: spec makes (the CLI's MAX_COUNT)
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
    if n > MAX_PUZZLES:
        raise UserError(f"bad generator spec {spec!r}: N must be at most {MAX_PUZZLES:,}")
    if opts.get("seed", 0) < 0:
        raise UserError(f"bad generator spec {spec!r}: seed must be 0 or more")
    return parts[1], n, opts


def load(task: Task, source: str, limit: int | None = None, on_progress: Callable[[int], None] | None = None) -> PuzzleSet:
    """A puzzle set from a file or a `gen:` spec, with reference answers (computed where the source has none)."""
    _a_task(task)
    if source.startswith("gen:"):
        kind, n, opts = _spec(source)
        seed = stream("bench", opts.pop("seed", 0))
        puzzles, references = task.generate(kind, min(n, limit or n), opts, seed)
        return PuzzleSet(task, puzzles, references, source)
    puzzles, known = task.read_file(source)
    puzzles, known = puzzles[:limit], known[:limit]
    references = []
    for k, (p, sol) in enumerate(zip(puzzles, known)):
        references.append(task.reference(p, f"{source}: puzzle {k + 1}", sol))
        if on_progress:
            on_progress(k + 1)
    return PuzzleSet(task, puzzles, references, source)


@dataclass
class Run:
    solver: str
    results: list[Result]
    wall: float
    params: int | None = None
    train_flops: float | None = None
    decoder: str | None = None  # a neural row's decoder (models.DECODERS); None for oracles and the hybrid
    rules: bool | None = None  # whether its decoder used the puzzle's rules
    startup: float | None = None  # seconds before the first puzzle's work began (see the module's note)
    time_limit: float | None = None  # an exact solver's seconds per puzzle (None: each puzzle's size default)


def _a_task(task) -> None:
    """TypeError for a kind's name where its task object belongs (names are resolved at the edges)."""
    if not isinstance(task, Task):
        raise TypeError(f"expected a task object (puzzles.domains.get_task(name) gives one), got {task!r}")


def solvers(task: Task) -> tuple[str, ...]:
    """Every solver name `run` takes for `task`: the neural model kinds that run on it and the shipped matched
    set (KIND@BUDGET) when models run on it (`puzzles.contract.neural`, `models.runs_on`), the task's
    model-guided searches (`hybrid`), then its oracles."""
    from csp_diffusion.solver import shipped_names

    _a_task(task)
    models = (tuple(name for name in (*MODELS, *shipped_names(task.name)) if runs_on(kind_of(name), task))
              if neural(task) else ())
    return (*models, *(task.hybrids if capable(task, HYBRID) else ()), *(task.oracles if capable(task, EXACT) else ()))


def run(solver: str, pset: PuzzleSet, sampler: dict, time_limit: float | None, checkpoint_dir=None, device=None,
        on_result: Callable[[Result], None] | None = None) -> Run:
    """Run one solver over the set (neural: batched, `sampler` its SamplerConfig fields, its time limit among
    them; oracles: both cores, `time_limit` seconds per puzzle, None: each one's size default), calling
    on_result per puzzle."""
    start = time.perf_counter()
    task = pset.task
    params = flops = startup = decoder = rules = None
    # a puzzle with no reference has no answer to find (no or several solutions; a goal that cannot be reached)
    reasons = [task.screen(p, True) if ref is None else None for p, ref in zip(pset.puzzles, pset.references)]
    if kind_of(solver) and neural(task):
        from csp_diffusion.sampler import SamplerConfig
        from csp_diffusion.solver import NeuralSolver

        checkpoint = None if checkpoint_dir is None else checkpoint_dir / f"{task.name}-{solver}.safetensors"
        ns = NeuralSolver(solver, task.name, checkpoint, device, SamplerConfig(**sampler))
        params, flops, decoder, rules = ns.params, ns.train_flops, ns.decoder, ns.config.rules
        startup = time.perf_counter() - start
        results: Iterator[Result] = ns.solve_screened(pset.puzzles, reasons=reasons)
    elif capable(task, HYBRID) and solver in task.hybrids:
        from csp_diffusion.hybrid import HybridSolver

        checkpoint = None if checkpoint_dir is None else checkpoint_dir / f"{task.name}-loopmdm.safetensors"
        hs = HybridSolver(task.name, checkpoint, device, loops=sampler.get("loops", 0))
        params, flops = hs.params, hs.train_flops
        startup = time.perf_counter() - start
        results = hs.solve_screened(pset.puzzles, unique=False, reasons=reasons)
    elif capable(task, EXACT) and solver in task.oracles:
        results = task.solve_exact(pset.puzzles, solver, time_limit, workers=2)
    else:
        raise UserError(f"unknown solver {solver!r} for {task.name}; choose from {', '.join(solvers(task))}")
    kept = []
    for r in results:
        if startup is None:  # an oracle: its pool has started once the first result is back
            startup = max(0.0, time.perf_counter() - start - r.seconds)
        kept.append(r)
        if on_result:
            on_result(r)
    return Run(solver, kept, time.perf_counter() - start, params, flops, decoder, rules, startup, time_limit)


def cell_accuracy(pset: PuzzleSet, results: list[Result]) -> float | None:
    """Fraction of the unknown cells whose answer matches the reference (the task's scoring); every cell of a
    verified answer counts as right (a maze's shortest path need not be the reference's one)."""
    task = pset.task
    right = total = 0
    for p, ref, r in zip(pset.puzzles, pset.references, results):
        if ref is None:
            continue
        text = r.solution or r.extra.get("final")
        got, of = task.score(p, ref, None if text is None else task.answer(text))
        right, total = right + (of if r.verified else got), total + of
    return right / total if total else None


MATCHED = 0.10  # neural rows within this share of the most-trained one's training FLOPs compare fairly


def mark_matched(rows: list[dict]) -> list[dict]:
    """Each row gets `matched`: whether its training FLOPs are within MATCHED of the most-trained row's (None
    for a row without training FLOPs, an oracle's)."""
    trained = [r["train_flops"] for r in rows if r.get("train_flops")]
    for r in rows:
        r["matched"] = r["train_flops"] >= (1 - MATCHED) * max(trained) if r.get("train_flops") else None
    return rows


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion k / n."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _mean(values: list) -> float | None:
    return statistics.fmean(values) if values else None


def _search_counts(pset: PuzzleSet, rs: list[Result]) -> dict:
    """A model-guided search's counters against the same search without the model (run here, after the
    timed solve), on the puzzles it searched: median nodes of each, the share it needed fewer on, the
    share it solved with no backtrack."""
    searched = [(r.extra, p) for r, p in zip(rs, pset.puzzles) if "nodes" in r.extra]
    if not searched:
        return {"mean_nodes": None, "median_nodes": None, "median_free_nodes": None, "fewer_nodes_share": None,
                "no_backtrack_share": None}
    task = pset.task
    free = [task.free_search_nodes(p) for _, p in searched]
    return {
        "mean_nodes": _mean([e["nodes"] for e, _ in searched]),
        "median_nodes": statistics.median(e["nodes"] for e, _ in searched),
        "median_free_nodes": statistics.median(free),
        "fewer_nodes_share": _mean([e["nodes"] < f for (e, _), f in zip(searched, free)]),
        "no_backtrack_share": _mean([e["backtracks"] == 0 for e, _ in searched]),
    }


def budget(run_: Run) -> dict:
    """A row's budget (see the module's note): what limited each puzzle's work, and how many ran out of time."""
    rs = run_.results
    neural = [r.extra for r in rs if "time_limit" in r.extra]
    timed_out = sum(bool(r.extra.get("timed_out")) or r.error == "time limit" for r in rs)
    if neural:  # its step limit (None: a decoder whose model calls are fixed), and the seconds each puzzle had (0: none)
        steps = [e["max_steps"] for e in neural if e.get("max_steps") is not None]
        limit = max(e["time_limit"] for e in neural)
        return {"budget": "steps and time" if limit else "steps", "max_steps": max(steps) if steps else None,
                "time_limit": limit, "timed_out": timed_out}
    if any("nodes" in r.extra for r in rs):
        return {"budget": "search", "max_steps": None, "time_limit": 0.0, "timed_out": timed_out}
    return {"budget": "time", "max_steps": None, "time_limit": run_.time_limit, "timed_out": timed_out}


def summarize(pset: PuzzleSet, run_: Run) -> dict:
    """One solver's row. `puzzles` counts every puzzle, `no_solution` those without a reference (none or several
    solutions; no path), which the solve rate, its interval, the accuracy and the timings leave out."""
    n = len(run_.results)
    rs = [r for r, ref in zip(run_.results, pset.references) if ref is not None]
    scored = len(rs)
    solved = sum(r.solved for r in rs)
    lo, hi = wilson(solved, scored)
    secs = sorted(r.seconds for r in rs)
    busy = run_.wall - (run_.startup or 0.0)
    return {
        "task": pset.task.name, "puzzles_from": pset.name, "solver": run_.solver, "decoder": run_.decoder,
        "rules": run_.rules, **budget(run_), "puzzles": n, "no_solution": n - scored,
        "solved": solved, "solve_rate": solved / scored if scored else 0.0, "ci95_low": lo, "ci95_high": hi,
        "cell_accuracy": cell_accuracy(pset, rs),
        "mean_steps": _mean([r.extra["steps"] for r in rs if "steps" in r.extra]),
        "mean_retractions": _mean([r.extra["retractions"] for r in rs if "retractions" in r.extra]),
        **_search_counts(pset, rs),
        "median_seconds": statistics.median(secs) if secs else None,
        "p95_seconds": secs[min(scored - 1, math.ceil(0.95 * scored) - 1)] if secs else None,
        "startup_seconds": run_.startup,
        "puzzles_per_second": n / busy if busy > 0 else None,  # after start-up
        "wall_seconds": run_.wall,
        "params": run_.params,
        "train_flops": run_.train_flops,
        "flops_per_puzzle": _mean([r.extra["flops"] for r in rs if "flops" in r.extra]),
    }
